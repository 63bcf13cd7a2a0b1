/**
 * The helper thread of sync-read.ts: serves read requests from its owner thread with readers of its own,
 * one request at a time (the owner is blocked until the answer arrives).
 */
import type { MessagePort } from 'node:worker_threads';
import { openReader } from './open.ts';
import type { Column, EventReader } from './reader.ts';
import { toWireError, type HelperReply, type HelperRequest } from './sync-read.ts';

/** Readers kept open at once (as the ReaderCache's default). */
const CAPACITY = 4;

export function serve(port: MessagePort, flag: Int32Array): void {
  const readers = new Map<string, Promise<EventReader>>();
  const keyOf = (m: { file: string; tree: string; version: string }) => `${m.file}\u0000${m.tree}\u0000${m.version}`;

  const reply = (m: HelperReply, transfer: ArrayBuffer[] = []): void => {
    port.postMessage(m, transfer);
    Atomics.add(flag, 0, 1);
    Atomics.notify(flag, 0);
  };

  const get = (m: { file: string; tree: string; version: string }): Promise<EventReader> => {
    const key = keyOf(m);
    let r = readers.get(key);
    if (r) {
      readers.delete(key); // Map order is the LRU order
      readers.set(key, r);
      return r;
    }
    r = openReader(m.file, { treeName: m.tree });
    readers.set(key, r);
    r.catch(() => readers.delete(key));
    while (readers.size > CAPACITY) {
      const [oldKey, old] = readers.entries().next().value as [string, Promise<EventReader>];
      readers.delete(oldKey);
      old.then((x) => x.close()).catch(() => undefined);
    }
    return r;
  };

  const evict = (m: { file: string; tree: string; version: string }): void => {
    const key = keyOf(m);
    const r = readers.get(key);
    readers.delete(key);
    r?.then((x) => x.close()).catch(() => undefined);
  };

  // One request at a time, in order: 'open' warms a reader, 'read' waits for it.
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (m: HelperRequest) => {
    tail = tail.then(() => handle(m));
  });

  async function handle(m: HelperRequest): Promise<void> {
    if (m.type === 'open') {
      await get(m).catch(() => undefined); // the read that follows reports the failure
      return;
    }
    if (m.type === 'evict') {
      evict(m);
      return;
    }
    let reader: EventReader | undefined;
    try {
      reader = await get(m);
      const before = reader.bytesRead;
      const columns = await reader.read(m.names, m.entryStart, m.entryStop);
      reply({ type: 'result', id: m.id, columns, bytes: reader.bytesRead - before }, transferable(columns));
    } catch (e) {
      if (reader) evict(m); // as the owner's ReaderCache does after a failed read
      reply({ type: 'error', id: m.id, error: toWireError(e) });
    }
  }

  const die = (e: unknown) =>
    reply({
      type: 'fatal',
      error: {
        ...toWireError(e),
        name: 'SyncReadHelperError',
        message: `the sync-read helper thread failed: ${e instanceof Error ? e.message : String(e)}`,
      },
    });
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  process.on('exit', () =>
    reply({ type: 'fatal', error: { name: 'SyncReadHelperError', message: 'the sync-read helper thread exited' } }),
  );
}

/**
 * Buffers that can move instead of being copied: only arrays spanning their whole ArrayBuffer, which a
 * reader allocated for this read; a view into a larger buffer may be the reader's own data (the Arrow
 * reader hands out views of its record batches) and is copied by the structured clone instead.
 */
function transferable(columns: Record<string, Column>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView) => {
    if (a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength)
      out.add(a.buffer);
  };
  for (const c of Object.values(columns)) {
    if (ArrayBuffer.isView(c)) add(c);
    else {
      add(c.offsets);
      add(c.content);
    }
  }
  return [...out];
}
