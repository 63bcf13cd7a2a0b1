/**
 * Base of Ristretto's error hierarchy. Every error carries context fields (file, tree, branch, entry
 * range, endpoint, task id...) and a sentence on what to do, so that the CLI can print a short message
 * instead of a stack trace.
 */
export class RistrettoError extends Error {
  /** Structured context, safe to log (never tokens or secrets). */
  readonly context: Readonly<Record<string, unknown>>;
  /** What the user should do about it. */
  readonly hint: string | undefined;

  constructor(message: string, context: Record<string, unknown> = {}, hint?: string, options?: { cause?: unknown }) {
    super(hint ? `${message} — ${hint}` : message, options);
    this.name = new.target.name;
    this.context = context;
    this.hint = hint;
  }
}
