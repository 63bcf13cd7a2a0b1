/**
 * The `local` provider: a block is a process group on this machine running the block script. It
 * needs no scheduler, so the elastic strategy can be used (and tested) anywhere; `ristretto faas
 * endpoint start` without `--provider` keeps the plain forked pool instead (no TCP hop).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockSpec, BlockStatus, ExecutionProvider } from './types.ts';
import { workerBaseEnv } from '../worker-env.ts';

export class LocalProvider implements ExecutionProvider {
  readonly name = 'local';
  private readonly procs = new Map<string, { proc: ChildProcess; out: string; ended?: string }>();

  async check(): Promise<void> {}

  async submit(block: BlockSpec): Promise<string> {
    const path = join(block.dir, `block-${block.id}.sh`);
    const out = join(block.dir, `block-${block.id}.out`);
    writeFileSync(path, `#!/bin/sh\n${block.script}`, { mode: 0o700 });
    const fd = openSync(out, 'a');
    try {
      // Its own process group, so cancel() stops the shell and every worker it started.
      const proc = spawn('/bin/sh', [path], {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: workerBaseEnv(),
      });
      await new Promise<void>((resolve, reject) => {
        proc.once('spawn', () => resolve());
        proc.once('error', reject);
      });
      const id = `local-${proc.pid}`;
      const rec: { proc: ChildProcess; out: string; ended?: string } = { proc, out };
      proc.once('exit', (code, signal) => (rec.ended = signal ? `signal ${signal}` : `exit code ${code}`));
      this.procs.set(id, rec);
      return id;
    } finally {
      closeSync(fd);
    }
  }

  async status(jobIds: readonly string[]): Promise<Map<string, BlockStatus>> {
    const m = new Map<string, BlockStatus>();
    for (const id of jobIds) {
      const rec = this.procs.get(id);
      if (!rec || rec.ended !== undefined) m.set(id, { state: 'ended', reason: rec?.ended ?? 'unknown block' });
      else m.set(id, { state: 'running' });
    }
    return m;
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    await Promise.all(
      jobIds.map(async (id) => {
        const rec = this.procs.get(id);
        const pid = rec?.proc.pid;
        // No pid: the shell never started, so there is no group to signal.
        if (!rec || rec.ended !== undefined || pid === undefined) return;
        const exited = new Promise<void>((resolve) => rec.proc.once('exit', () => resolve()));
        signalGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
        // The shell may be gone before its workers: make sure the whole group is.
        signalGroup(pid, 'SIGKILL');
      }),
    );
  }

  outputOf(jobId: string): string | undefined {
    return this.procs.get(jobId)?.out;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
