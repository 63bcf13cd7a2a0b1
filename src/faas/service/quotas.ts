/**
 * Per-user quotas of the shared service: unfinished tasks per user, and task ids watched per result
 * stream and per user. One user must not fill the disk, the memory or the thread the others share.
 * Over a quota a request is refused whole with `QuotaExceeded` (HTTP 429, details: QuotaDetails).
 */
import { MAX_WATCHED_UNLIMITED } from '../protocol-schemas.ts';
import type { QuotaDetails } from '../protocol.ts';
import type { Store, UserRow } from './db.ts';
import { ApiError } from './http.ts';

/**
 * The most unfinished tasks `user` may have: their own limit if the admin set one, else the service's
 * (`serveDefault`); 0 = no limit. Read from the store each time: an admin may change it meanwhile.
 */
export function openTaskLimit(store: Store, user: UserRow, serveDefault: number): number {
  return store.openTasks(user.id).limit ?? serveDefault;
}

/** Refuse (QuotaExceeded) a submission of `asked` tasks that would take `user` over their open-task limit. */
export function checkOpenTasks(store: Store, user: UserRow, serveDefault: number, asked: number): void {
  const { open, limit: own } = store.openTasks(user.id);
  const limit = own ?? serveDefault;
  if (limit === 0 || open + asked <= limit) return;
  const details: QuotaDetails = { quota: 'open_tasks', limit, open, asked };
  throw new ApiError(
    'QuotaExceeded',
    `user ${user.name} has ${open} unfinished tasks and may have at most ${limit}: ${asked} more do not fit; nothing was stored. Submit the rest as these finish (the Ristretto client and executor wait by themselves)`,
    { ...details },
  );
}

/** Ids one stream, and all streams of a user together, may watch (see MAX_WATCHED_UNLIMITED). */
export function watchLimits(openLimit: number): { perStream: number; perUser: number } {
  const perStream = openLimit > 0 ? openLimit : MAX_WATCHED_UNLIMITED;
  return { perStream, perUser: 2 * perStream };
}

/**
 * Refuse (QuotaExceeded) watching `asked` more ids on a stream that watches `onStream` while its
 * user's streams watch `ofUser`.
 */
export function checkWatched(
  user: UserRow,
  limits: { perStream: number; perUser: number },
  onStream: number,
  ofUser: number,
  asked: number,
): void {
  let details: Extract<QuotaDetails, { watched: number }> | undefined;
  if (onStream + asked > limits.perStream)
    details = { quota: 'watched_per_stream', limit: limits.perStream, watched: onStream, asked };
  else if (ofUser + asked > limits.perUser)
    details = { quota: 'watched_per_user', limit: limits.perUser, watched: ofUser, asked };
  if (!details) return;
  const where = details.quota === 'watched_per_stream' ? 'this stream' : `the streams of user ${user.name}`;
  throw new ApiError(
    'QuotaExceeded',
    `${where} watch ${details.watched} tasks and may watch at most ${details.limit}: ${asked} more do not fit; nothing was done. Watch them as the watched ones finish`,
    { ...details },
  );
}
