/**
 * The environment an endpoint's workers start with: the agent's own, without the agent's service
 * credentials. Workers talk only to their agent (IPC or the block socket with its own secret); the
 * service token in their environment was readable by every task, so a user whose function an endpoint
 * allows could act as the endpoint's owner (issue 14, probe D5).
 */
import { TOKEN_ENV } from '../token.ts';

/** Variables the agent uses to reach the service and that no worker needs. */
export const AGENT_ONLY_ENV: readonly string[] = [TOKEN_ENV];

/** `base` without AGENT_ONLY_ENV. */
export function workerBaseEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const k of AGENT_ONLY_ENV) delete env[k];
  return env;
}
