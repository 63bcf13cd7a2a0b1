/**
 * The shell script every provider runs as a block: the user's `--worker-init` lines, then N worker
 * processes that connect back to the agent. A worker that exits with RESTART_EXIT (the agent dropped
 * it, e.g. to stop a timed-out task) is started again; any other exit ends its slot, and the block
 * ends when all its workers have.
 */
import { FaasConfigError } from '../../errors.ts';
import { RESTART_EXIT } from '../worker-connect.ts';

/** Quote a value for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface BlockScriptOptions {
  /** Command that starts one worker (argv). */
  command: readonly string[];
  /** Environment of every worker (RISTRETTO_AGENT, secret file, block id, ...). */
  env: Readonly<Record<string, string>>;
  workers: number;
  /** Shell lines run first (module load, conda activate, cd ...). */
  workerInit?: string;
}

/** Most restarts of one worker slot in one block (a worker that cannot start must not spin). */
const MAX_RESTARTS = 1000;

/** The block body (providers prepend their own header, e.g. `#SBATCH` lines). */
export function blockScript(o: BlockScriptOptions): string {
  const lines: string[] = [];
  if (o.workerInit?.trim()) lines.push('# --worker-init', o.workerInit.trim(), '# end of --worker-init');
  for (const [k, v] of Object.entries(o.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new FaasConfigError(
        `invalid environment variable name "${k}" for the block's workers`,
        { variable: k },
        'use letters, digits and "_" only, not starting with a digit',
      );
    lines.push(`export ${k}=${shellQuote(v)}`);
  }
  const cmd = o.command.map(shellQuote).join(' ');
  lines.push(
    'run_worker() {',
    '  n=0',
    '  while :; do',
    `    RISTRETTO_WORKER_INDEX=$1 ${cmd}`,
    '    rc=$?',
    `    [ "$rc" -eq ${RESTART_EXIT} ] || break`,
    '    n=$((n + 1))',
    `    [ "$n" -lt ${MAX_RESTARTS} ] || break`,
    '  done',
    '  echo "worker $1 exited with code $rc" >&2',
    '}',
    'i=0',
    `while [ "$i" -lt ${o.workers} ]; do`,
    '  run_worker "$i" &',
    '  i=$((i + 1))',
    'done',
    'wait',
  );
  return `${lines.join('\n')}\n`;
}
