/**
 * Kept so existing imports of `src/events/closest.ts` keep working; the ranking lives in
 * `src/errors/suggest.ts` (import it from there in new code).
 */
export { closestNames } from '../errors/suggest.ts';
