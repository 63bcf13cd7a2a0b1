/**
 * Where clients and endpoint agents find their API token. Tokens are never taken from a command-line
 * argument (they would show up in `ps` and shell history).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FaasConfigError } from './errors.ts';

/** Name of the environment variable holding the token. */
export const TOKEN_ENV = 'RISTRETTO_TOKEN';

/** Default token file: `$XDG_CONFIG_HOME/ristretto/token`, else `~/.config/ristretto/token`. */
export function defaultTokenFile(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'ristretto', 'token');
}

/**
 * Resolve the token: an explicit `tokenFile` first, then `RISTRETTO_TOKEN`, then the default token file.
 * Throws FaasConfigError saying where it looked.
 */
export function resolveToken(opts: { tokenFile?: string } = {}): string {
  if (opts.tokenFile) return readTokenFile(opts.tokenFile, true);
  const env = process.env[TOKEN_ENV]?.trim();
  if (env) return env;
  const fromFile = readTokenFile(defaultTokenFile(), false);
  if (fromFile) return fromFile;
  throw new FaasConfigError(
    'no API token found',
    { looked: [TOKEN_ENV, defaultTokenFile()] },
    `set ${TOKEN_ENV}, write the token to ${defaultTokenFile()}, or pass --token-file FILE; an admin creates one with \`ristretto faas user add NAME --db FILE\``,
  );
}

function readTokenFile(path: string, required: true): string;
function readTokenFile(path: string, required: boolean): string | undefined;
function readTokenFile(path: string, required: boolean): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (!required) return undefined;
    throw new FaasConfigError(
      `cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { path },
    );
  }
  const token = text.trim();
  if (!token) {
    if (!required) return undefined;
    throw new FaasConfigError(`token file ${path} is empty`, { path });
  }
  return token;
}
