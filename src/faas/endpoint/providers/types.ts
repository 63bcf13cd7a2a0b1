/**
 * Execution providers: where an elastic endpoint gets its workers. A provider submits *blocks* (one
 * batch job, pod or process group running N worker processes), reports their state and cancels them;
 * the strategy (../blocks.ts) decides how many blocks to hold. Workers of a block connect back to the
 * endpoint agent over TCP (../worker-connect.ts), so a provider only has to start a shell script
 * somewhere that can reach the agent. See docs/providers.md for HTCondor and Kubernetes.
 */

/** What a provider runs: one shell script that starts the block's workers and waits for them. */
export interface BlockSpec {
  /** Block id chosen by the strategy (unique within one agent run; workers report it). */
  id: string;
  /** Worker processes in the block. */
  workers: number;
  /** The complete POSIX shell script (see blockScript); the provider adds its own header lines. */
  script: string;
  /** Folder for the block's script and output file (readable by the agent, for error messages). */
  dir: string;
}

/** State of a submitted block as the scheduler reports it. */
export type BlockState = 'pending' | 'running' | 'ended';

export interface BlockStatus {
  state: BlockState;
  /** Scheduler's words for how it ended or why it waits (e.g. "TIMEOUT", "CANCELLED", "Resources"). */
  reason?: string;
}

export interface ExecutionProvider {
  /** "local", "slurm", ... */
  readonly name: string;
  /** Throws a clear error when the scheduler's tools are missing or refuse to work. */
  check(): Promise<void>;
  /** Submit a block; resolves with the scheduler's job id. */
  submit(block: BlockSpec): Promise<string>;
  /** State of these jobs; a job the scheduler no longer knows is reported as ended. */
  status(jobIds: readonly string[]): Promise<Map<string, BlockStatus>>;
  /** Cancel these jobs (their workers are killed); resolves once the scheduler accepted it. */
  cancel(jobIds: readonly string[]): Promise<void>;
  /** Where a block's output goes, for error messages (undefined if unknown). */
  outputOf?(jobId: string): string | undefined;
}
