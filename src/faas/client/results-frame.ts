/**
 * A results frame from the service read entry by entry (issue 14). The whole frame is checked first
 * (the usual case: all of it fits the protocol); when something in it does not, each part is checked
 * on its own, so one malformed entry costs its own task only: the other outcomes are delivered, and
 * the bad one is reported by its task id and field. Only what names no task (no readable `task_id`)
 * is left unattributed, for the stream to recover by watching again.
 */
import { StreamResultsSchema, validate } from '../protocol-schemas.ts';
import type { StreamEntry, StreamResults } from '../protocol.ts';
import { brokenInvariant } from '../../errors/index.ts';
import { SchemaError, type TSchema, validator } from '../schema.ts';

type Submitted = NonNullable<StreamResults['submitted']>[number];

// The parts of the one frame schema (protocol-schemas.ts), each checked on its own.
const parts = (StreamResultsSchema as unknown as { properties: Record<string, { items?: unknown }> }).properties;
const entryValidator = validator(parts.results?.items as TSchema<StreamEntry>);
const idsValidator = validator(parts.running as TSchema<string[]>);
const submittedValidator = validator(parts.submitted?.items as TSchema<Submitted>);

/** An entry that names its task but does not fit the protocol: that task's outcome is unknown. */
export interface BadEntry {
  taskId: string;
  /** What the entry says, where readable (for the error's context). */
  endpointId: string;
  attempts: number;
  /** The offending field, e.g. "attempts" or "error.type". */
  field: string;
  /** What is wrong with it, e.g. "attempts must be <= 1000". */
  problem: string;
}

export interface ReadFrame {
  /** What fits the protocol: delivered as usual. */
  header: StreamResults;
  bad: BadEntry[];
  /** Parts that could not be tied to a task (a results entry without a task id, a bad `submitted` entry). */
  unattributed: string[];
  /** `req` of `submitted` entries that name a request but are malformed otherwise. */
  badSubmitted: number[];
}

/** Read a parsed results frame header; never throws (anything unusable is in `bad` or `unattributed`). */
export function readResultsFrame(raw: unknown): ReadFrame {
  if (validate.streamResults.is(raw)) return { header: raw, bad: [], unattributed: [], badSubmitted: [] };
  const out: ReadFrame = { header: { type: 'results', results: [] }, bad: [], unattributed: [], badSubmitted: [] };
  const obj = isObject(raw) ? raw : {};
  if (obj.type !== 'results') out.unattributed.push(`a frame of type ${JSON.stringify(obj.type ?? null).slice(0, 50)}`);
  const results = Array.isArray(obj.results) ? obj.results : [];
  if (!Array.isArray(obj.results)) out.unattributed.push('a frame without a results list');
  for (let i = 0; i < results.length; i++) {
    const e: unknown = results[i];
    if (entryValidator.is(e)) {
      out.header.results.push(e);
      continue;
    }
    const taskId = isObject(e) ? e.task_id : undefined;
    if (typeof taskId !== 'string' || taskId.length === 0 || taskId.length > 100) {
      out.unattributed.push(`results[${i}] names no task`);
      continue;
    }
    const why = problemOf(e);
    out.bad.push({
      taskId,
      endpointId: isObject(e) && typeof e.endpoint_id === 'string' ? e.endpoint_id.slice(0, 100) : '',
      attempts: isObject(e) && Number.isSafeInteger(e.attempts) ? (e.attempts as number) : 0,
      ...why,
    });
  }
  // Running notices are hints only: a malformed list is dropped whole.
  if (idsValidator.is(obj.running) && idsValidator.is(obj.running_on) && obj.running.length === obj.running_on.length) {
    out.header.running = obj.running;
    out.header.running_on = obj.running_on;
  }
  if (obj.submitted !== undefined) {
    const good: Submitted[] = [];
    for (const s of Array.isArray(obj.submitted) ? obj.submitted : [obj.submitted]) {
      if (submittedValidator.is(s)) good.push(s);
      else {
        const req = isObject(s) ? s.req : undefined;
        if (typeof req === 'number' && Number.isSafeInteger(req)) out.badSubmitted.push(req);
        else out.unattributed.push('a confirmation that names no request');
      }
    }
    if (good.length) out.header.submitted = good;
  }
  return out;
}

/** The first field of an entry that does not fit the protocol, and what is wrong with it. */
function problemOf(e: unknown): { field: string; problem: string } {
  try {
    entryValidator.check(e, 'entry');
  } catch (err) {
    if (err instanceof SchemaError) {
      const field = err.path.replace(/^\//, '').replace(/\//g, '.') || 'the entry';
      return { field, problem: err.message.replace(/^entry: /, '') };
    }
    throw err;
  }
  return brokenInvariant('a results entry the schema refused passed its check');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
