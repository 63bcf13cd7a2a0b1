/**
 * Layering: `executors/` builds on `src/`, and only the composition root (src/cli) picks an executor, so the
 * runner and the library work without any executor module; readers and kernels know nothing of runs; the
 * FaaS service and endpoint meet only through their shared modules. scripts/lint/layering.mjs checks the
 * import statements (`npm run lint` runs it on this repository); here it runs on small trees of its own.
 */
import { describe, expect, it } from 'vitest';
import { RistrettoError } from '../../src/errors/index.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { lintScript } from '../helpers/lint.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE } from './helpers.ts';

const lint = lintScript('layering.mjs');

describe('layering', () => {
  it('refuses imports against the layers, static, re-exported and dynamic, naming file and line', () => {
    const r = lint({
      'src/runner/run.ts': "import { x } from '../../executors/index.ts';\n",
      'src/io/reader.ts': "\nexport * from '../runner/run.ts';\n",
      'src/faas/service/a.ts': "const m = await import('../endpoint/agent.ts');\n",
      'executors/threads/b.ts': "import { main } from '../../src/cli/main.ts';\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/runner/run.ts:1: imports ../../executors/index.ts (executors/)');
    expect(r.out).toContain('src/io/reader.ts:2: imports ../runner/run.ts (src/runner/)');
    expect(r.out).toContain('src/faas/service/a.ts:1: imports ../endpoint/agent.ts (src/faas/endpoint/)');
    expect(r.out).toContain('executors/threads/b.ts:1: imports ../../src/cli/main.ts (src/cli/)');
    expect(r.out).toContain('4 import(s)');
  }, 60_000);

  it('lets src/cli import executors, executors import the library, and the FaaS parts share protocol', () => {
    const r = lint({
      'src/cli/analysis.ts': "import { executorFactory } from '../../executors/index.ts';\n",
      'executors/faas/x.ts': "import { runAnalysis } from '../../src/runner/run.ts';\n",
      'src/faas/service/s.ts': "import type { Msg } from '../protocol.ts';\nimport ws from 'ws';\n",
      'src/io/r.ts': "import { Hist } from '../hist/hist.ts';\n",
    });
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('keeps generic helpers out of src/faas: outside FaaS only its client and protocol may be imported', () => {
    const r = lint({
      'src/io/xrootd/source.ts': "import { retry } from '../../faas/retry.ts';\n",
      'src/fit/pool.ts': "import { Backoff } from '../faas/retry.ts';\n",
      'executors/threads/t.ts': "import { uuidv7 } from '../../src/faas/ids.ts';\n",
      'src/util/retry.ts': "import { RistrettoError } from '../errors/index.ts';\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'src/io/xrootd/source.ts:1: imports ../../faas/retry.ts (src/faas/): outside FaaS use its client',
    );
    expect(r.out).toContain('src/fit/pool.ts:1: imports ../faas/retry.ts (src/faas/)');
    expect(r.out).toContain('executors/threads/t.ts:1: imports ../../src/faas/ids.ts (src/faas/)');
    expect(r.out).toContain('src/util/retry.ts:1: imports ../errors/index.ts (src/): src/util/ helpers stand alone');
    expect(r.out).toContain('4 import(s)');
  }, 60_000);

  it('lets every layer use src/util, the FaaS executor use FaaS internals, and others the FaaS client', () => {
    const r = lint({
      'src/io/xrootd/source.ts': "import { retry } from '../../util/retry.ts';\n",
      'src/fit/scan-faas.ts':
        "import { FaasClient } from '../faas/client/index.ts';\nimport type { TailPolicy } from '../faas/protocol.ts';\n",
      'executors/faas/channel.ts': "import { uuidv7 } from '../../src/faas/ids.ts';\n",
      'src/faas/client/http.ts': "import { retry } from '../../util/retry.ts';\n",
      'src/util/retry.ts': "import { setTimeout } from 'node:timers/promises';\n",
    });
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('this repository keeps its layers', () => {
    const r = lint({}, repoRoot);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('the runner refuses an executor name it cannot build, before any work', async () => {
    const err = await runAnalysis({
      fileset: [{ name: 'd', files: [{ path: ROOT_FILE(), tree: 'Events' }], metadata: {} }],
      processor: fixture('met-muons.ts'),
      executor: 'threads' as unknown as 'iterative',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RistrettoError);
    expect((err as Error).message).toMatch(/not the name "threads"/);
  });
});
