/**
 * Per-endpoint data access: sites mount the same storage under different names (the client reads
 * `root://xrd.example.org//store/x.root` or `/mnt/shared/x.root`, the site has it at `/hadoop/store/x.root`).
 * A mapping is a list of `prefix → local` pairs per endpoint; the longest matching prefix wins and
 * anything that matches none is passed unchanged.
 */

/** `{ "<endpoint name or id>": { "<prefix as the client sees it>": "<same storage at that endpoint>" } }`. */
export type PathMap = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Rewrite `path` for one endpoint's mapping (undefined or empty: unchanged). */
export function mapPath(path: string, mapping: Readonly<Record<string, string>> | undefined): string {
  if (!mapping) return path;
  let best = '';
  for (const prefix of Object.keys(mapping)) if (prefix.length > best.length && path.startsWith(prefix)) best = prefix;
  return best ? mapping[best] + path.slice(best.length) : path;
}

/** The mapping for an endpoint, looked up by its name first, then by its id. */
export function mappingFor(
  map: PathMap | undefined,
  name: string,
  id: string,
): Readonly<Record<string, string>> | undefined {
  return map?.[name] ?? map?.[id];
}
