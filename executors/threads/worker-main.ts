/**
 * One pool worker: keeps processor bundles (by hash) and open readers across chunks and runs each
 * item through `processChunk`. Accumulators go back as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setSyncReadHelperEntry } from '../../src/io/sync-read.ts';
import { loadBundle, type ProcessorBundle } from '../../src/processor/bundle.ts';
import { toChunkFailure } from '../../src/runner/errors.ts';
import { createChunkState, processChunk } from '../../src/runner/process-chunk.ts';
import type { ReplyMessage, RunMessage } from './protocol.ts';

const port = parentPort!;
const data = (workerData ?? {}) as { maxReaders?: number; bundleDir?: string; syncReadHelper?: string };
// Inside the bundled runtime import.meta.url no longer points at src/: the pool passes where the entry of
// the helper thread (reads columns a processor touches without prefetch) is.
if (data.syncReadHelper) setSyncReadHelperEntry(data.syncReadHelper);
const state = createChunkState({ maxReaders: data.maxReaders });
const bundles = new Map<string, ProcessorBundle>();

port.on('message', async (m: RunMessage) => {
  try {
    if (m.bundle) bundles.set(m.bundle.hash, m.bundle);
    const bundle = bundles.get(m.hash);
    if (!bundle) throw new Error(`processor bundle ${m.hash} was never sent to this worker`);
    // The pool passes the bundle folder: inside the bundled runtime, import.meta.url no longer points at src/.
    const processor = await loadBundle(bundle, { dir: data.bundleDir });
    const result = await processChunk(m.item, processor, state, { metadata: m.metadata, prefetch: m.prefetch, processorKey: m.hash });
    const reply: ReplyMessage = { type: 'done', id: m.id, result };
    port.postMessage(reply, [result.accumulator.buffer as ArrayBuffer]);
  } catch (e) {
    const reply: ReplyMessage = { type: 'failed', id: m.id, failure: toChunkFailure(e) };
    port.postMessage(reply);
  }
});
