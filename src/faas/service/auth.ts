/** API tokens: generated from 32 random bytes, shown once, stored only as their sha256. */
import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'rst_';

/** A new random token, e.g. `rst_3q2+...` (base64url of 32 bytes). */
export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** The value stored in the database; lookups are by this hash, so the token itself is never stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Parse an `Authorization: Bearer ...` header; undefined when absent or malformed. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
