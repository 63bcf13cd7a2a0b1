import { describe, expect, it } from 'vitest';
import { formatTask } from '../../src/faas/cli.ts';
import type { TaskInfo } from '../../src/faas/protocol.ts';

describe('ristretto faas task get', () => {
  it('prints times as readable UTC with the steps between them, and the endpoint by name', () => {
    const t0 = Date.UTC(2026, 11, 6, 4, 30, 0, 0);
    const task: TaskInfo = {
      task_id: 'a1b2',
      batch_id: 'b',
      function_id: 'f',
      endpoint_id: 'e-123',
      state: 'failed',
      attempts: 2,
      max_attempts: 3,
      timeout_ms: 0,
      submitted_at: t0,
      dispatched_at: t0 + 12,
      started_at: t0 + 40,
      completed_at: t0 + 1540,
      result_size: null,
      error: { type: 'FunctionError', message: 'RangeError: bad input' },
    };
    const text = formatTask(task, 'laptop');
    expect(text).toContain('endpoint    laptop (e-123)');
    expect(text).toContain('submitted   2026-12-06 04:30:00.000 UTC');
    expect(text).toContain('dispatched  2026-12-06 04:30:00.012 UTC  (+0.012 s)');
    expect(text).toContain('completed   2026-12-06 04:30:01.540 UTC  (+1.500 s)');
    expect(text).toContain('attempts    2 of 3');
    expect(text).toContain('error       FunctionError: RangeError: bad input');
    expect(formatTask({ ...task, started_at: null, completed_at: null, error: null, state: 'dispatched' })).toContain(
      'started     -',
    );
  });
});
