/**
 * Where a JSON text goes wrong, as line and column. Node 20's `JSON.parse` names a byte position for some
 * errors and none for others ("Unexpected token '}', … is not valid JSON" quotes the text instead), and a
 * position is of little use in a hand-edited dataset or workspace file. This scanner runs only after
 * `JSON.parse` has failed, so it favours clarity over speed; it keeps its own stack so that deep nesting
 * cannot overflow the call stack.
 */

/** Offset (UTF-16 units) of the first character that makes `text` invalid JSON, or `undefined` if it is valid. */
export function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  const stack: boolean[] = []; // true = inside an object, false = inside an array
  let i = 0;
  const isDigit = (k: number): boolean => {
    const c = text.charCodeAt(k);
    return c >= 48 && c <= 57;
  };
  // A number, stopping (false) at the first character that cannot continue it, as V8 reports it.
  const number = (): boolean => {
    if (text[i] === '-') i++;
    if (!isDigit(i)) return false;
    if (text[i] === '0') i++;
    else while (isDigit(i)) i++;
    if (text[i] === '.') {
      i++;
      if (!isDigit(i)) return false;
      while (isDigit(i)) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(i)) return false;
      while (isDigit(i)) i++;
    }
    return true;
  };
  // true, false or null, stopping at the first character that differs.
  const literal = (): boolean => {
    const word = text[i] === 't' ? 'true' : text[i] === 'f' ? 'false' : text[i] === 'n' ? 'null' : '';
    if (!word) return false;
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
    return true;
  };
  const skipSpace = (): void => {
    for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  };
  // At an opening quote: true and past the closing quote, or false with `i` at the offending character.
  const string = (): boolean => {
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return true;
      }
      if (c < 32) return false;
      if (c !== 92) continue;
      const e = text[++i];
      if (e === 'u') {
        for (let k = 0; k < 4; k++) if (!/[0-9a-fA-F]/.test(text[++i] ?? '')) return false;
      } else if (e === undefined || !'"\\/bfnrt'.includes(e)) return false;
    }
    return false;
  };
  // After `{` or `,` inside an object: a key and its colon.
  const key = (): boolean => {
    skipSpace();
    if (text[i] !== '"' || !string()) return false;
    skipSpace();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };

  value: for (;;) {
    skipSpace();
    const c = text[i];
    if (c === '{' || c === '[') {
      stack.push(c === '{');
      i++;
      skipSpace();
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++;
        stack.pop();
        // Empty container: falls through to "after a complete value".
      } else if (c === '{' && !key()) return i;
      else continue; // the first element or member value
    } else if (c === '"') {
      if (!string()) return i;
    } else if (!(c === '-' || isDigit(i) ? number() : literal())) return i;
    // After a complete value: close containers, or go on after a comma.
    for (;;) {
      skipSpace();
      if (stack.length === 0) return i < n ? i : undefined;
      const inObject = stack[stack.length - 1];
      const d = text[i];
      if (d === ',') {
        i++;
        if (inObject && !key()) return i;
        continue value;
      }
      if (d !== (inObject ? '}' : ']')) return i;
      i++;
      stack.pop();
    }
  }
}

/** 1-based line and column of a UTF-16 offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let j = text.indexOf('\n'); j !== -1 && j < offset; j = text.indexOf('\n', j + 1)) {
    line++;
    start = j + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * A one-line description of why `text` is not JSON, for messages that already name the file:
 * `line 3, column 8: Unexpected token '}' (near: "b": })`. `error` is what `JSON.parse(text)` threw.
 *
 * @example
 * ```ts
 * import { jsonSyntaxMessage } from './json-location.ts';
 * const text = '{\n  "a": 1,\n  "b": }';
 * try {
 *   JSON.parse(text);
 * } catch (e) {
 *   console.log(jsonSyntaxMessage(text, e)); // line 3, column 8: Unexpected token '}' (near: "b": })
 * }
 * ```
 */
export function jsonSyntaxMessage(text: string, error: unknown): string {
  // V8 appends either the whole (truncated) text or a position: both are replaced by line and column.
  const reason = String((error as Error)?.message ?? error)
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ at position \d+.*$/s, '')
    .replace(/ in JSON$/, '')
    .replace(/ of JSON input$/, ' of input');
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return reason;
  const { line, column } = lineColumn(text, offset);
  const lineStart = offset - column + 1;
  const lineEnd = text.indexOf('\n', offset);
  const near = text
    .slice(Math.max(lineStart, offset - 30), Math.min(lineEnd === -1 ? text.length : lineEnd, offset + 30))
    .trim();
  return `line ${line}, column ${column}: ${reason}${near ? ` (near: ${near})` : ''}`;
}
