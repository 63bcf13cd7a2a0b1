/** Records whose values are computed on first access, so that selections touch only the fields a user reads. */

/**
 * A record with one enumerable, memoized getter per key: `compute(key)` runs once, on first access.
 * Used for the fields of selected collections (NanoAOD `Jet` has ~20 fields; an analysis reads 4).
 */
export function lazyRecord<V>(keys: readonly string[], compute: (key: string) => V): Readonly<Record<string, V>> {
  const record: Record<string, V> = {};
  for (const key of keys) {
    Object.defineProperty(record, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = compute(key);
        Object.defineProperty(record, key, { value, enumerable: true, configurable: false, writable: false });
        return value;
      },
    });
  }
  return record;
}
