/**
 * `ristretto faas ...`: the service, admin commands, the endpoint agent and a few user commands.
 * Service and endpoint code are imported lazily, so `endpoint start` never loads better-sqlite3.
 * Tokens are read from RISTRETTO_TOKEN / --token-file / ~/.config/ristretto/token, never from argv.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { RistrettoError } from '../errors/index.ts';
import { FaasConfigError } from './errors.ts';
import type { TaskInfo } from './protocol.ts';
import type { BlockCliOptions } from './endpoint/providers/block-options.ts';

const DEFAULT_DB = 'ristretto-faas.db';
const DEFAULT_PORT = 8470;

function int(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new RistrettoError(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').filter(Boolean)];
}

/** Run a command body and turn our errors into one readable line and exit code 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof RistrettoError) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exit(1);
      }
      throw e;
    }
  };
}

async function openStore(db: string) {
  const { Store } = await import('./service/db.ts');
  return new Store(resolve(db));
}

/** Adds the `faas` command group (serve, user, token, endpoint, function, task) to the `ristretto` CLI. */
export function registerFaasCommands(program: Command): void {
  const faas = program.command('faas').description('function-as-a-service platform: service, endpoints, admin');

  faas
    .command('serve')
    .description('run the FaaS service (HTTP API + WebSockets); prints "listening on URL"')
    .option('--port <port>', 'TCP port (0 = any free port)', int('--port'), DEFAULT_PORT)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--max-payload-bytes <n>', 'largest task arguments (packed bytes)', int('--max-payload-bytes', 1))
    .option('--max-result-bytes <n>', 'largest task result (packed bytes)', int('--max-result-bytes', 1))
    .option(
      '--max-request-bytes <n>',
      'largest request body or stream message (default 64 MiB; each is parsed whole on the service thread)',
      int('--max-request-bytes', 1),
    )
    .option(
      '--max-open-tasks <n>',
      'unfinished tasks (waiting, dispatched, running) one user may have, default 200,000; more are refused until some finish (0 = no limit; per user: faas user set)',
      int('--max-open-tasks'),
    )
    .option(
      '--max-connections-per-address <n>',
      'open TCP connections one client address may have, default 1,000; more are refused (0 = no cap; behind a reverse proxy, raise it and limit clients at the proxy)',
      int('--max-connections-per-address'),
    )
    .option('--max-attempts <n>', 'default runs per task when workers/endpoints die', int('--max-attempts', 1), 3)
    .option('--task-timeout <seconds>', 'default per-task timeout (0 = none)', Number, 0)
    .option('--heartbeat <seconds>', 'endpoint heartbeat interval', Number, 5)
    .option('--quiet', 'no log lines on stderr')
    .action(
      action(
        async (o: {
          port: number;
          host: string;
          db: string;
          maxPayloadBytes?: number;
          maxResultBytes?: number;
          maxRequestBytes?: number;
          maxOpenTasks?: number;
          maxConnectionsPerAddress?: number;
          maxAttempts: number;
          taskTimeout: number;
          heartbeat: number;
          quiet?: boolean;
        }) => {
          const { startService } = await import('./service/server.ts');
          const svc = await startService({
            dbFile: resolve(o.db),
            port: o.port,
            host: o.host,
            limits: {
              ...(o.maxPayloadBytes ? { max_payload_bytes: o.maxPayloadBytes } : {}),
              ...(o.maxResultBytes ? { max_result_bytes: o.maxResultBytes } : {}),
              ...(o.maxRequestBytes ? { max_request_bytes: o.maxRequestBytes } : {}),
            },
            ...(o.maxOpenTasks !== undefined ? { maxOpenTasks: o.maxOpenTasks } : {}),
            ...(o.maxConnectionsPerAddress !== undefined
              ? { maxConnectionsPerAddress: o.maxConnectionsPerAddress }
              : {}),
            maxAttempts: o.maxAttempts,
            taskTimeoutMs: Math.round(o.taskTimeout * 1000),
            heartbeatMs: Math.round(o.heartbeat * 1000),
            ...(o.quiet ? { log: () => {} } : {}),
          });
          process.stdout.write(`listening on ${svc.url}\n`);
          const stop = async () => {
            await svc.close();
            process.exit(0);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        },
      ),
    );

  // ---------------------------------------------------------------- admin

  const user = faas.command('user').description('manage users (admin; works on the database file)');
  user
    .command('add <name>')
    .description('create a user and print a new API token (shown once)')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--label <label>', 'note stored with the token')
    .option('--admin', 'a service admin: sees service-wide numbers in /v1/metrics (other users see only their own)')
    .option(
      '--max-open-tasks <n>',
      "this user's own limit of unfinished tasks, instead of the service's (faas serve --max-open-tasks); 0 = no limit",
      int('--max-open-tasks'),
    )
    .action(
      action(async (name: string, o: { db: string; label?: string; admin?: boolean; maxOpenTasks?: number }) => {
        const { USER_NAME_PATTERN } = await import('./protocol-schemas.ts');
        if (!new RegExp(USER_NAME_PATTERN).test(name))
          throw new RistrettoError(
            `invalid user name "${name.slice(0, 200)}"`,
            {},
            'use 1-100 letters, digits, ".", "_", "@" or "-"',
          );
        const store = await openStore(o.db);
        try {
          const { StoreConflictError } = await import('./service/db.ts');
          let u;
          try {
            u = store.createUser(name, o.admin === true, o.maxOpenTasks ?? null);
          } catch (e) {
            if (e instanceof StoreConflictError)
              throw new RistrettoError(
                e.message,
                { user: name },
                `create another token with \`ristretto faas token create ${name}\``,
              );
            throw e;
          }
          const t = store.createToken(u.id, o.label);
          process.stderr.write(
            `created ${o.admin ? 'admin ' : ''}user ${name} (${u.id}); token id ${t.id}. The token below is shown only once:\n`,
          );
          process.stdout.write(`${t.token}\n`);
        } finally {
          store.close();
        }
      }),
    );
  user
    .command('set <name>')
    .description("change a user's limits (applies to their next submission; the service may keep running)")
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option(
      '--max-open-tasks <n>',
      'most unfinished tasks of this user (0 = no limit; "default" = the service\'s --max-open-tasks)',
    )
    .action(
      action(async (name: string, o: { db: string; maxOpenTasks?: string }) => {
        if (o.maxOpenTasks === undefined)
          throw new RistrettoError('nothing to set', {}, 'give --max-open-tasks N (or "default")');
        const n = o.maxOpenTasks === 'default' ? null : int('--max-open-tasks')(o.maxOpenTasks);
        const store = await openStore(o.db);
        try {
          const u = store.userByName(name);
          if (!u) throw new RistrettoError(`no user "${name.slice(0, 200)}"`, {}, 'see `ristretto faas user list`');
          store.setMaxOpenTasks(u.id, n);
          const limit = n === null ? "the service's --max-open-tasks" : n === 0 ? 'none' : String(n);
          process.stderr.write(`user ${name}: limit of unfinished tasks: ${limit}\n`);
        } finally {
          store.close();
        }
      }),
    );
  user
    .command('list')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .action(
      action(async (o: { db: string }) => {
        const store = await openStore(o.db);
        for (const u of store.listUsers())
          process.stdout.write(
            `${u.name}\t${u.id}\t${new Date(u.created_at).toISOString()}${u.admin ? '\tadmin' : ''}${u.max_open_tasks !== null ? `\tmax-open-tasks=${u.max_open_tasks}` : ''}\n`,
          );
        store.close();
      }),
    );

  const token = faas.command('token').description('manage API tokens (admin; works on the database file)');
  token
    .command('create <user>')
    .description('print a new token for an existing user')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--label <label>', 'note stored with the token')
    .action(
      action(async (name: string, o: { db: string; label?: string }) => {
        const store = await openStore(o.db);
        try {
          const u = store.userByName(name);
          if (!u)
            throw new RistrettoError(
              `no user "${name}"`,
              { user: name },
              `known users: ${
                store
                  .listUsers()
                  .map((x) => x.name)
                  .join(', ') || 'none'
              }`,
            );
          const t = store.createToken(u.id, o.label);
          process.stderr.write(`token id ${t.id} for ${name}; shown only once:\n`);
          process.stdout.write(`${t.token}\n`);
        } finally {
          store.close();
        }
      }),
    );
  token
    .command('list')
    .description('list tokens (ids and dates only; tokens are stored hashed)')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .option('--user <name>', 'only this user')
    .action(
      action(async (o: { db: string; user?: string }) => {
        const store = await openStore(o.db);
        const iso = (t: number | null) => (t ? new Date(t).toISOString() : '-');
        process.stdout.write('id\tuser\tcreated\tlast_used\trevoked\tlabel\n');
        for (const t of store.listTokens()) {
          if (o.user && t.user_name !== o.user) continue;
          process.stdout.write(
            `${t.id}\t${t.user_name}\t${iso(t.created_at)}\t${iso(t.last_used_at)}\t${iso(t.revoked_at)}\t${t.label ?? ''}\n`,
          );
        }
        store.close();
      }),
    );
  token
    .command('revoke <tokenId>')
    .description('revoke a token by id (see `token list`); live endpoint sessions using it are closed')
    .option('--db <file>', 'SQLite database file', DEFAULT_DB)
    .action(
      action(async (id: string, o: { db: string }) => {
        const store = await openStore(o.db);
        try {
          if (!store.revokeToken(id)) {
            throw new RistrettoError(
              `no active token with id "${id}"`,
              { id },
              `active ids: ${
                store
                  .listTokens()
                  .filter((t) => !t.revoked_at)
                  .map((t) => t.id)
                  .join(', ') || 'none'
              }`,
            );
          }
          process.stdout.write(`revoked ${id}\n`);
        } finally {
          store.close();
        }
      }),
    );

  // ---------------------------------------------------------------- endpoint

  const endpoint = faas.command('endpoint').description('run or inspect endpoints');
  endpoint
    .command('start')
    .description('run an endpoint agent: connects out to the service and runs tasks on worker processes')
    .requiredOption('--service <url>', 'service URL, e.g. http://127.0.0.1:8470')
    .requiredOption('--name <name>', 'endpoint name (re-attaches to the existing endpoint of that name)')
    .option('--workers <k>', 'worker processes', int('--workers', 1), 1)
    .option(
      '--concurrency <c>',
      'tasks running at once per worker process (for I/O-bound or sleeping functions)',
      int('--concurrency', 1),
      1,
    )
    .option(
      '--prefetch <n>',
      'tasks accepted beyond the capacity, workers x concurrency (default: about 25 ms of work at the observed task length, at least 1)',
      int('--prefetch'),
    )
    .option(
      '--allow-function <id>',
      'accept only these function ids (repeatable or comma-separated); default: functions you own',
      collect,
    )
    .option(
      '--allow-bundle <hash>',
      "run only these Ristretto processor bundles (sha256, repeatable or comma-separated) in the chunk function: allowlisting a user's chunk function runs that user's processor code here",
      collect,
    )
    .option(
      '--stageout-allow <location>',
      'stage-out directories or http(s) store URLs the workers may write results to (repeatable or comma-separated); others are refused, and RISTRETTO_STAGEOUT_TOKEN is sent only to these. Required with RISTRETTO_STAGEOUT_TOKEN; with --allow-bundle and without it, no stage-out',
      collect,
    )
    .option(
      '--max-task-seconds <n>',
      "longest a task may run here, whatever timeout its submitter gave it; a task that runs longer fails with TaskTimeout (on a shared endpoint, keeps one user's endless tasks from holding every worker)",
      int('--max-task-seconds', 1),
    )
    .addOption(new Option('--public', 'let every user run tasks here').conflicts('shareWith'))
    .option('--share-with <user>', 'let these users run tasks here (repeatable or comma-separated)', collect)
    .option('--cache-dir <dir>', 'where function modules are cached by hash')
    .option('--token-file <file>', 'read the token from this file instead of RISTRETTO_TOKEN')
    .option(
      '--tag <tag>',
      'capability tag advertised to clients, a word or key=value (repeatable): --tag gpu --tag site=T2_US --tag cost=3; clients select with --endpoints tag:site=T2_US',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option(
      '--local-path <prefix>',
      'path prefix the workers read locally (repeatable); the FaaS executor sends chunks of files under it here first',
      (v: string, p: string[] = []) => [...p, v],
    )
    .addOption(
      new Option(
        '--provider <name>',
        'get workers from elastic blocks: slurm = sbatch jobs, local = process groups here (default: --workers forked processes)',
      ).choices(['local', 'slurm']),
    )
    .option('--partition <p>', 'Slurm partition of the blocks')
    .option('--account <a>', 'Slurm account of the blocks')
    .option('--walltime <HH:MM:SS>', 'time limit of each block (Slurm --time); a block that reaches it is replaced')
    .option(
      '--sbatch-option <opt>',
      'extra #SBATCH option for each block, e.g. --mem=8G (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--min-blocks <n>', 'blocks kept even when idle', int('--min-blocks'), 0)
    .option('--init-blocks <n>', 'blocks submitted at start (default: --min-blocks)', int('--init-blocks'))
    .option('--max-blocks <n>', 'most blocks at once', int('--max-blocks', 1), 1)
    .option('--workers-per-block <w>', 'worker processes per block (one core each)', int('--workers-per-block', 1), 1)
    .option('--cores-per-worker <c>', 'cores requested per worker', int('--cores-per-worker', 1), 1)
    .option('--idle-timeout <seconds>', 'release a block whose workers held no task this long', Number, 120)
    .option(
      '--worker-init <commands>',
      'shell commands run in each block before its workers start (module load, conda activate, ...)',
    )
    .option(
      '--block-dir <dir>',
      'block scripts, their output and the worker secret; must be readable on the compute nodes (default: beside the function cache)',
    )
    .option(
      '--agent-address <host>',
      'host name or address block workers use to reach this agent (default: this host name)',
    )
    .option('--listen-port <port>', 'TCP port for block workers (default: any free port)', int('--listen-port', 1))
    .action(
      action(
        async (
          o: {
            service: string;
            name: string;
            workers: number;
            concurrency: number;
            prefetch?: number;
            allowFunction?: string[];
            allowBundle?: string[];
            stageoutAllow?: string[];
            maxTaskSeconds?: number;
            public?: boolean;
            shareWith?: string[];
            cacheDir?: string;
            tokenFile?: string;
            tag?: string[];
            localPath?: string[];
          } & BlockCliOptions,
        ) => {
          const { checkTags, checkLocalPaths } = await import('./capabilities.ts');
          const tags = checkTags(o.tag ?? []);
          const localPaths = checkLocalPaths(o.localPath ?? []);
          if (o.allowBundle) {
            const bad = o.allowBundle.filter((h) => !/^[0-9a-f]{64}$/.test(h));
            if (bad.length)
              throw new RistrettoError(
                `--allow-bundle takes sha256 hashes (64 hex digits), got "${bad[0].slice(0, 100)}"`,
                {},
                'a run refused by the endpoint names the hash of its processor bundle ("bundle <hash> is not one of them")',
              );
          }
          // The task names its stage-out location; the site's token must not go wherever a user points it.
          if (process.env.RISTRETTO_STAGEOUT_TOKEN?.trim() && !o.stageoutAllow)
            throw new FaasConfigError(
              `endpoint ${o.name}: RISTRETTO_STAGEOUT_TOKEN is set but no --stageout-allow: the token would be sent to any URL a user names as --stageout`,
              { endpoint: o.name },
              'pass --stageout-allow with the store URL(s) the token belongs to',
            );
          // Stage-out runs in the workers, so the token is in their environment: readable by every task.
          // Other users' tasks may hold it only when their code is pinned (issue 14, probe D5).
          if (process.env.RISTRETTO_STAGEOUT_TOKEN?.trim() && (o.public || o.shareWith) && !o.allowBundle)
            throw new FaasConfigError(
              `endpoint ${o.name}: RISTRETTO_STAGEOUT_TOKEN is set on an endpoint shared with other users without --allow-bundle: their tasks run code of their own in the workers and could read the token from the environment`,
              { endpoint: o.name },
              'pin the processor bundles users may run (--allow-bundle), or start the shared endpoint without RISTRETTO_STAGEOUT_TOKEN',
            );
          // Pinned bundles limit what users can do here; an open stage-out would let them write anywhere.
          const stageoutAllow = o.stageoutAllow ?? (o.allowBundle ? [] : undefined);
          const { resolveToken } = await import('./token.ts');
          const { EndpointAgent } = await import('./endpoint/agent.ts');
          const { defaultCacheDir } = await import('./endpoint/function-cache.ts');
          const cacheDir = resolve(o.cacheDir ?? defaultCacheDir());
          // Checked before the agent starts: a missing sbatch is an error now, not a log line later.
          const { blockOptions } = await import('./endpoint/providers/block-options.ts');
          const blocks = await blockOptions(o, cacheDir);
          const agent = new EndpointAgent({
            serviceUrl: o.service,
            token: resolveToken({ tokenFile: o.tokenFile }),
            name: o.name,
            workers: o.workers,
            concurrency: o.concurrency,
            ...(o.prefetch !== undefined ? { prefetch: o.prefetch } : {}),
            ...(o.allowFunction ? { allowedFunctions: o.allowFunction } : {}),
            ...(o.allowBundle ? { allowedBundles: o.allowBundle } : {}),
            ...(stageoutAllow ? { stageoutAllow } : {}),
            ...(o.maxTaskSeconds ? { maxTaskSeconds: o.maxTaskSeconds } : {}),
            ...(o.public
              ? { sharing: { visibility: 'public' as const } }
              : o.shareWith
                ? { sharing: { visibility: 'users' as const, users: o.shareWith } }
                : {}),
            cacheDir,
            ...(tags.length ? { tags } : {}),
            ...(localPaths.length ? { localPaths } : {}),
            ...(blocks ? { blocks } : {}),
            onAttached: (id) => process.stdout.write(`endpoint ${o.name} attached id=${id}\n`),
            // Stopped for good while running (token revoked, another live agent took the name): exit 1.
            onFatal: (e) => {
              process.stderr.write(`error: ${e.message}\n`);
              void agent.stop().then(() => process.exit(1));
            },
          });
          const stop = async () => {
            await agent.stop();
            process.exit(0);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          await agent.start();
        },
      ),
    );
  endpoint
    .command('list')
    .description('endpoints visible to you, with status and capacity')
    .requiredOption('--service <url>', 'service URL')
    .option('--token-file <file>', 'read the token from this file instead of RISTRETTO_TOKEN')
    .action(
      action(async (o: { service: string; tokenFile?: string }) => {
        const fx = await client(o);
        process.stdout.write('id\tname\towner\tstatus\tcapacity\tbusy\tin_flight\twaiting\ttags\tlocal_paths\n');
        for (const e of await fx.listEndpoints()) {
          const tags = e.tags?.join(',') || '-';
          const local = e.local_paths?.join(',') || '-';
          process.stdout.write(
            `${e.endpoint_id}\t${e.name}\t${e.owner}\t${e.status}\t${e.capacity}\t${e.busy}\t${e.in_flight}\t${e.waiting}\t${tags}\t${local}\n`,
          );
        }
        await fx.close();
      }),
    );

  endpoint
    .command('delete <endpoint>')
    .description(
      "delete an endpoint of yours (an admin: anyone's, by id or owner/name); refused while its agent is attached or tasks on it are unfinished",
    )
    .requiredOption('--service <url>', 'service URL')
    .option('--token-file <file>', 'read the token from this file instead of RISTRETTO_TOKEN')
    .action(
      action(async (ref: string, o: { service: string; tokenFile?: string }) => {
        const fx = await client(o);
        try {
          const e = await fx.deleteEndpoint(ref);
          process.stdout.write(`deleted endpoint ${e.owner}/${e.name} (${e.endpoint_id})\n`);
        } finally {
          await fx.close();
        }
      }),
    );

  // ---------------------------------------------------------------- user commands

  const fn = faas.command('function').description('register functions');
  fn.command('register <path>')
    .description('bundle a JS/TS module (default export = the function) and register it; prints the function id')
    .requiredOption('--service <url>', 'service URL')
    .option('--name <name>')
    .option('--description <text>')
    .addOption(new Option('--public', 'let every user run it').conflicts('shareWith'))
    .option('--share-with <user>', 'let these users run it (repeatable or comma-separated)', collect)
    .option('--token-file <file>', 'read the token from this file instead of RISTRETTO_TOKEN')
    .action(
      action(
        async (
          path: string,
          o: {
            service: string;
            name?: string;
            description?: string;
            public?: boolean;
            shareWith?: string[];
            tokenFile?: string;
          },
        ) => {
          const fx = await client(o);
          const id = await fx.registerFunction(
            { path },
            { name: o.name, description: o.description, public: o.public, sharedWith: o.shareWith },
          );
          process.stdout.write(`${id}\n`);
          await fx.close();
        },
      ),
    );

  const task = faas.command('task').description('inspect tasks');
  task
    .command('get <taskId>')
    .description('print a task status, and its result as JSON when it succeeded')
    .requiredOption('--service <url>', 'service URL')
    .option('--token-file <file>', 'read the token from this file instead of RISTRETTO_TOKEN')
    .option('--json', 'print the raw task record (timestamps in ms since the epoch)')
    .action(
      action(async (id: string, o: { service: string; tokenFile?: string; json?: boolean }) => {
        const fx = await client(o);
        try {
          const info = await fx.getTask(id);
          if (o.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
          else {
            const endpoints = await fx.listEndpoints().catch(() => []);
            process.stdout.write(formatTask(info, endpoints.find((e) => e.endpoint_id === info.endpoint_id)?.name));
          }
          if (info.state === 'success')
            process.stdout.write(
              `${o.json ? '' : 'result      '}${JSON.stringify((await fx.getBatchResult([id])).get(id)?.result)}\n`,
            );
        } finally {
          await fx.close();
        }
      }),
    );
}

/** A task record for people: local ISO times, durations between the steps, the endpoint by name. */
export function formatTask(t: TaskInfo, endpointName?: string): string {
  const at = (ms: number | null) =>
    ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
  const after = (ms: number | null, from: number | null) =>
    ms === null || from === null ? '' : `  (+${((ms - from) / 1000).toFixed(3)} s)`;
  const lines = [
    ['task', t.task_id],
    ['state', t.state],
    ['endpoint', endpointName ? `${endpointName} (${t.endpoint_id})` : t.endpoint_id],
    ['function', t.function_id],
    ['attempts', `${t.attempts} of ${t.max_attempts}`],
    ['submitted', at(t.submitted_at)],
    ['dispatched', at(t.dispatched_at) + after(t.dispatched_at, t.submitted_at)],
    ['started', at(t.started_at) + after(t.started_at, t.dispatched_at ?? t.submitted_at)],
    ['completed', at(t.completed_at) + after(t.completed_at, t.started_at ?? t.dispatched_at ?? t.submitted_at)],
  ];
  if (t.result_size !== null) lines.push(['result size', `${t.result_size} bytes`]);
  if (t.error) lines.push(['error', `${t.error.type}: ${t.error.message}`]);
  return lines.map(([k, v]) => `${k.padEnd(12)}${v}\n`).join('');
}

async function client(o: { service: string; tokenFile?: string }) {
  const { FaasClient } = await import('./client/index.ts');
  return new FaasClient({ serviceUrl: o.service, ...(o.tokenFile ? { tokenFile: o.tokenFile } : {}) });
}
