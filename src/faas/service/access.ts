/**
 * Who may see and use what. Rules:
 * - A function or endpoint is usable by its owner, by everyone when public, and by the named users
 *   when shared with users.
 * - An endpoint runs only functions on its allowlist; an EMPTY allowlist means "any function owned by
 *   the endpoint's owner" (so a shared endpoint never runs code its owner did not write or vet).
 * Denials say what was refused without revealing whether someone else's private object exists.
 */
import { type EndpointInfo, type FunctionInfo, isUuid, type Sharing } from '../protocol.ts';
import type { EndpointRow, FunctionRow, ResolvedSharing, Store, UserRow } from './db.ts';
import { ApiError } from './http.ts';
import { closestNames } from '../../errors/suggest.ts';

export function canUseFunction(store: Store, f: FunctionRow, user: UserRow): boolean {
  return (
    f.owner_id === user.id ||
    f.visibility === 'public' ||
    (f.visibility === 'users' && store.functionSharedWith(f.id, user.id))
  );
}

export function canUseEndpoint(store: Store, e: EndpointRow, user: UserRow): boolean {
  return (
    e.owner_id === user.id ||
    e.visibility === 'public' ||
    (e.visibility === 'users' && store.endpointSharedWith(e.id, user.id))
  );
}

/**
 * Endpoints one user may register. Each row carries its allowlist and is listed to every user it is
 * visible to, and names are resolved among them: one user's 20,000 public endpoints made every other
 * user's submission by name cost 0.5 CPU-s (issue 14, probe D8).
 */
export const MAX_ENDPOINTS_PER_USER = 200;

/**
 * Check an endpoint registration (`POST /v1/endpoints` or an agent's hello) before it is stored: a
 * new endpoint must fit in the owner's MAX_ENDPOINTS_PER_USER, and each allowed function must be a
 * function id that exists (the allowlist is stored in the row and repeated in every list answer).
 */
export function checkEndpointRegistration(
  store: Store,
  owner: UserRow,
  name: string,
  allowed: readonly string[] | undefined,
): void {
  if (!store.ownEndpoint(owner.id, name)) {
    const n = store.countOwnEndpoints(owner.id);
    if (n >= MAX_ENDPOINTS_PER_USER)
      throw new ApiError(
        'Forbidden',
        `user ${owner.name} has ${n} endpoints, the most one user may register; endpoint ${name} was not created`,
        { limit: MAX_ENDPOINTS_PER_USER, endpoints: n },
      );
  }
  for (const id of allowed ?? []) {
    if (!isUuid(id) || !store.functionById(id))
      throw new ApiError('BadRequest', `allowed_functions: function ${id} does not exist`, { function_id: id });
  }
}

export function allowedFunctions(e: EndpointRow): string[] {
  return JSON.parse(e.allowed_functions) as string[];
}

export function endpointAllows(e: EndpointRow, f: FunctionRow): boolean {
  const allowed = allowedFunctions(e);
  return allowed.length === 0 ? f.owner_id === e.owner_id : allowed.includes(f.id);
}

/** Validate a sharing spec from a request and resolve user names to ids. */
export function resolveSharing(store: Store, sharing: Sharing | undefined): ResolvedSharing | undefined {
  if (sharing === undefined) return undefined;
  if (typeof sharing !== 'object' || sharing === null || !['private', 'public', 'users'].includes(sharing.visibility)) {
    throw new ApiError('BadRequest', 'sharing.visibility must be "private", "public" or "users"');
  }
  const names = sharing.users ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
    throw new ApiError('BadRequest', 'sharing.users must be a list of user names');
  if (sharing.visibility === 'users' && names.length === 0)
    throw new ApiError('BadRequest', 'sharing.visibility "users" needs at least one name in sharing.users');
  const userIds: string[] = [];
  for (const n of names) {
    const u = store.userByName(n);
    if (!u) {
      throw new ApiError('NotFound', `cannot share with unknown user "${n}"`, {
        closest: closest(
          n,
          store.listUsers().map((x) => x.name),
        ),
      });
    }
    userIds.push(u.id);
  }
  return { visibility: sharing.visibility, userIds: sharing.visibility === 'users' ? userIds : [] };
}

/** Up to three candidates closest to `name` (the project-wide ranking; each name once), for "not found" messages. */
export function closest(name: string, candidates: string[]): string[] {
  return closestNames(name, candidates, 3);
}

export function functionInfo(store: Store, f: FunctionRow, withCode: boolean): FunctionInfo {
  return {
    function_id: f.id,
    hash: f.hash,
    name: f.name,
    description: f.description,
    owner: f.owner_name,
    sharing: sharingOf(f.visibility, () => store.functionShareNames(f.id)),
    created_at: f.created_at,
    ...(withCode ? { code: f.code } : {}),
  };
}

export function endpointInfo(
  store: Store,
  e: EndpointRow,
  live: { online: boolean; busy: number; in_flight: number } | undefined,
): EndpointInfo {
  return {
    endpoint_id: e.id,
    name: e.name,
    owner: e.owner_name,
    status: live?.online ? 'online' : 'offline',
    last_heartbeat: e.last_heartbeat,
    capacity: e.capacity,
    prefetch: e.prefetch,
    busy: live?.busy ?? 0,
    in_flight: live?.in_flight ?? 0,
    waiting: store.countWaiting(e.id),
    allowed_functions: allowedFunctions(e),
    sharing: sharingOf(e.visibility, () => store.endpointShareNames(e.id)),
    created_at: e.created_at,
    tags: jsonList(e.tags),
    local_paths: jsonList(e.local_paths),
  };
}

/** A stored JSON list of strings; a row written before migration 5 or damaged reads as empty. */
function jsonList(text: string | null | undefined): string[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function sharingOf(visibility: Sharing['visibility'], names: () => string[]): Sharing {
  return visibility === 'users' ? { visibility, users: names() } : { visibility };
}
