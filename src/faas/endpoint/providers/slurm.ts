/**
 * The `slurm` provider: a block is one `sbatch` job (one node, one task, a core per worker) running
 * the block script; `squeue` reports its state, `scancel` ends it. All three run as the agent's user
 * on the machine of the agent (a login node), which must be a Slurm submit host.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaasConfigError, FaasError } from '../../errors.ts';
import { shellQuote } from './script.ts';
import type { BlockSpec, BlockStatus, ExecutionProvider } from './types.ts';
import { workerBaseEnv } from '../worker-env.ts';

export interface SlurmOptions {
  /** Endpoint name, for job names and error messages. */
  endpoint: string;
  partition?: string;
  account?: string;
  /** Job time limit, `[D-]HH:MM:SS` or `MM:SS` or minutes (sbatch --time). */
  walltime?: string;
  /** Cores per worker (default 1): the job asks for workers x this many CPUs. */
  coresPerWorker?: number;
  /** Extra `#SBATCH` options, e.g. `--mem=4G` or `--qos=debug` (one option per entry). */
  sbatchOptions?: string[];
}

/** Longest wait for one Slurm command (a busy controller can be slow, but not this slow). */
const COMMAND_TIMEOUT_MS = 60_000;

/** `[D-]HH:MM:SS`, `HH:MM:SS`, `MM:SS` or plain minutes, as sbatch --time takes them. */
export const WALLTIME_PATTERN = /^(\d+-)?\d{1,2}(:\d{2}){0,2}$|^\d+$/;

/** Slurm job states after which the job holds no resources (squeue %T). */
const ENDED = new Set([
  'BOOT_FAIL',
  'CANCELLED',
  'COMPLETED',
  'DEADLINE',
  'FAILED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'REVOKED',
  'SPECIAL_EXIT',
  'TIMEOUT',
]);
const PENDING = new Set([
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'SUSPENDED',
  'STOPPED',
  'RESIZING',
]);

export class SlurmProvider implements ExecutionProvider {
  readonly name = 'slurm';
  private readonly outputs = new Map<string, string>();

  constructor(private readonly opts: SlurmOptions) {
    if (opts.walltime !== undefined && !WALLTIME_PATTERN.test(opts.walltime)) {
      throw new FaasConfigError(
        `endpoint ${opts.endpoint}: invalid --walltime "${opts.walltime}"`,
        { endpoint: opts.endpoint },
        'use HH:MM:SS or D-HH:MM:SS',
      );
    }
  }

  /** The job name of this endpoint's blocks (squeue filters on it). */
  get jobName(): string {
    return `ristretto-${this.opts.endpoint}`;
  }

  async check(): Promise<void> {
    await this.run('sbatch', ['--version']);
    await this.run('squeue', ['-h', '-o', '%i', '--name', this.jobName]);
    const parts = (await this.run('sinfo', ['-h', '-o', '%R']))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (this.opts.partition !== undefined && !parts.includes(this.opts.partition)) {
      throw new FaasConfigError(
        `endpoint ${this.opts.endpoint}: Slurm has no partition "${this.opts.partition}" (command: sinfo -h -o %R)`,
        { endpoint: this.opts.endpoint },
        `partitions: ${parts.join(', ') || 'none'}`,
      );
    }
  }

  async submit(block: BlockSpec): Promise<string> {
    const o = this.opts;
    const path = join(block.dir, `block-${block.id}.sh`);
    const out = join(block.dir, `block-${block.id}-%j.out`);
    const header = [
      '#!/bin/sh',
      `#SBATCH --job-name=${this.jobName}`,
      `#SBATCH --output=${out}`,
      '#SBATCH --nodes=1',
      '#SBATCH --ntasks=1',
      `#SBATCH --cpus-per-task=${block.workers * (o.coresPerWorker ?? 1)}`,
      ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
      ...(o.account ? [`#SBATCH --account=${o.account}`] : []),
      ...(o.walltime ? [`#SBATCH --time=${o.walltime}`] : []),
      ...(o.sbatchOptions ?? []).map((x) => `#SBATCH ${x}`),
      `# Ristretto endpoint ${o.endpoint}, block ${block.id}: ${block.workers} workers connecting back to the agent.`,
    ];
    writeFileSync(path, `${header.join('\n')}\n${block.script}`, { mode: 0o700 });
    const stdout = await this.run('sbatch', ['--parsable', path]);
    // "<jobid>" or "<jobid>;<cluster>"
    const id = stdout.trim().split(';')[0];
    if (!/^\d+(_\d+)?$/.test(id))
      throw new FaasError(
        `endpoint ${o.endpoint}: sbatch printed "${stdout.trim().slice(0, 200)}", not a job id (command: sbatch --parsable ${shellQuote(path)})`,
        { endpoint: o.endpoint },
      );
    this.outputs.set(id, out.replace('%j', id));
    return id;
  }

  async status(jobIds: readonly string[]): Promise<Map<string, BlockStatus>> {
    const m = new Map<string, BlockStatus>();
    if (jobIds.length === 0) return m;
    // By name, not by id: `squeue -j` fails outright once one of the ids has been purged.
    const text = await this.run('squeue', ['-h', '--states=all', '--name', this.jobName, '-o', '%i|%T|%r']);
    const seen = new Map<string, BlockStatus>();
    for (const line of text.split('\n')) {
      const [id, state, reason] = line.trim().split('|');
      if (!id || !state) continue;
      const r = reason && reason !== 'None' ? `${state} (${reason})` : state;
      seen.set(
        id,
        ENDED.has(state)
          ? { state: 'ended', reason: r }
          : PENDING.has(state)
            ? { state: 'pending', reason: r }
            : { state: 'running', reason: r },
      );
    }
    for (const id of jobIds) m.set(id, seen.get(id) ?? { state: 'ended', reason: 'no longer known to squeue' });
    return m;
  }

  async cancel(jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.run('scancel', [...jobIds]);
  }

  outputOf(jobId: string): string | undefined {
    return this.outputs.get(jobId);
  }

  /** Run a Slurm command; a failure names the endpoint, the command line and its stderr. */
  private run(cmd: string, args: string[]): Promise<string> {
    const line = [cmd, ...args].map((a) => (/^[\w@%:=,./|-]+$/.test(a) ? a : shellQuote(a))).join(' ');
    return new Promise((resolve, reject) => {
      execFile(
        cmd,
        args,
        { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: workerBaseEnv() },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
          const ctx = { endpoint: this.opts.endpoint, command: line };
          if (e.code === 'ENOENT') {
            return reject(
              new FaasConfigError(
                `endpoint ${this.opts.endpoint}: ${cmd} not found (command: ${line})`,
                ctx,
                `run the endpoint on a Slurm submit host, or put the Slurm client commands on PATH (e.g. \`module load slurm\`)`,
              ),
            );
          }
          const why = e.killed
            ? `timed out after ${COMMAND_TIMEOUT_MS / 1000} s`
            : `exit code ${typeof e.code === 'number' ? e.code : '?'}`;
          reject(
            new FaasError(
              `endpoint ${this.opts.endpoint}: ${cmd} failed (${why}; command: ${line}): ${String(stderr).trim().slice(0, 2000) || '(no stderr)'}`,
              ctx,
            ),
          );
        },
      );
    });
  }
}
