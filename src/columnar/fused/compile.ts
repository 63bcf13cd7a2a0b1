/**
 * Compiles an expression graph (graph.ts) at a sink into one generated JavaScript loop, cached by its source.
 *
 * What the generated loop does, and why:
 * - One pass over the events (or, when only one collection's own fields are read, over its contents): no
 *   intermediate array per step, which is what made kernel chains 1.3–2.2× slower than hand loops.
 * - Each value is computed at the outermost loop where all its variables are known (a jet's px inside a triple
 *   loop is computed once per jet, the pair sum once per pair); values used inside a combinations loop that
 *   depend on one object and cost a transcendental call are computed once per object per event into scratch
 *   arrays kept by the compiled function (so nothing is allocated per chunk or per event).
 * - Conditions short-circuit (`a && b` evaluates b's inputs only when a holds), reductions exit early
 *   (any/all), argmin/argmax keep only the winner's indices.
 * - The source names columns by their order of appearance, so every chunk of the same analysis produces the
 *   same text and reuses one compiled function; the dtypes of the columns are part of the text, so each dtype
 *   signature gets its own copy with monomorphic element access (as `columnar/specialize` does).
 */
import type { NumericArray } from '../types.ts';
import { wrapPhi } from '../vector.ts';
import { InvalidArgumentError, LengthMismatchError } from '../errors.ts';
import type { Domain, ListDomain, Node, ReduceNode, Var } from './graph.ts';
import { COSTLY, OPS, columnsOf, newVar, op, subst } from './graph.ts';
import { shapeOf } from './shape.ts';
import { binIndex } from './bins.ts';

interface Frame {
  readonly v: Var | null;
  readonly idx: string;
  readonly depth: number;
  readonly parent: Frame | null;
  preamble: Block;
}

class Block {
  readonly lines: string[] = [];
  readonly memo = new Map<string, string>();
  readonly reds = new Map<string, string[]>();
  constructor(
    readonly parent: Block | null,
    readonly frame: Frame,
  ) {}
}

const cacheVars = new WeakMap<Domain, Var>();
function cacheVar(dom: Domain): Var {
  let v = cacheVars.get(dom);
  if (!v) cacheVars.set(dom, (v = newVar(dom)));
  return v;
}

function literal(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '(-Infinity)';
  if (Object.is(x, -0)) return '(-0)';
  return x < 0 ? `(${x})` : `${x}`;
}

function fail(message: string, hint: string, context: Record<string, unknown> = {}): never {
  throw new InvalidArgumentError(`compute: ${message}`, { operation: 'compute', ...context }, hint);
}

const EARLY_EXIT: ReadonlySet<string> = new Set(['any', 'all']);
const KEEPS_INDEX: ReadonlySet<string> = new Set(['argmin', 'argmax', 'min', 'max']);
const INIT: Readonly<Record<string, string>> = {
  sum: '0',
  count: '0',
  any: 'false',
  all: 'true',
  min: 'Infinity',
  argmin: 'Infinity',
  max: '-Infinity',
  argmax: '-Infinity',
};

/** Reductions with this key can share a loop: same variables, same filter, same outer dependencies. */
function siblingKey(r: ReduceNode): string {
  return `${r.vars.map((v) => v.id).join(',')}|${r.cond?.key ?? ''}|${r.fv.map((v) => v.id).join(',')}`;
}

/** Every reduction reachable from the sink's nodes (through bound variables too), grouped by siblingKey. */
function collectSiblings(roots: readonly Node[]): Map<string, ReduceNode[]> {
  const groups = new Map<string, ReduceNode[]>();
  const seen = new Set<Node>();
  const visit = (x: Node): void => {
    if (seen.has(x)) return;
    seen.add(x);
    switch (x.k) {
      case 'field':
        if (x.v.bound) visit(x.v.bound.red);
        break;
      case 'op':
      case 'lookup':
        x.args.forEach(visit);
        break;
      case 'where':
        visit(x.x);
        visit(x.c);
        break;
      case 'found':
        visit(x.red);
        break;
      case 'reduce': {
        visit(x.body);
        if (x.cond) visit(x.cond);
        if (!EARLY_EXIT.has(x.r)) {
          const k = siblingKey(x);
          const g = groups.get(k);
          if (!g) groups.set(k, [x]);
          else if (!g.some((r) => r.key === x.key)) g.push(x);
        }
        break;
      }
    }
  };
  roots.forEach(visit);
  return groups;
}

class Generator {
  siblings = new Map<string, ReduceNode[]>();
  readonly params: NumericArray[] = [];
  private readonly paramNames = new Map<object, string>();
  readonly scratch: string[] = [];
  private tmp = 0;
  private readonly cache = new Map<string, string>();
  readonly domains = new Set<Domain>();
  readonly eventColumns: NumericArray[] = [];
  /** Columns read per list, for the length checks. */
  readonly fieldColumns = new Map<Domain, Map<string, NumericArray>>();

  column(dom: Domain, name: string): NumericArray[] {
    const cols = columnsOf(dom, name);
    const parts = dom.kind === 'list' ? [dom] : dom.parts;
    parts.forEach((p, i) => {
      let m = this.fieldColumns.get(p);
      if (!m) this.fieldColumns.set(p, (m = new Map()));
      m.set(name, cols[i]);
    });
    return cols;
  }
  readonly root: Frame;

  constructor(flatVar: Var | undefined) {
    const root: Frame = {
      v: flatVar ?? null,
      idx: flatVar ? 'g' : 'e',
      depth: 0,
      parent: null,
      preamble: undefined as unknown as Block,
    };
    root.preamble = new Block(null, root);
    this.root = root;
  }

  param(arr: NumericArray): string {
    let name = this.paramNames.get(arr);
    if (name === undefined) {
      name = `p${this.params.length}`;
      this.params.push(arr);
      this.paramNames.set(arr, name);
    }
    return name;
  }

  fresh(prefix: string): string {
    return `${prefix}${this.tmp++}`;
  }

  /** Per-event start (`a`), end (`z`, lists only) and length (`n`) of a domain, in the event loop's preamble. */
  bases(dom: Domain): { a: string; z: string; n: string } {
    if (this.root.v !== null) fail('internal: event bases in a flat loop', 'Report this as a bug.');
    this.domains.add(dom);
    const b = this.root.preamble;
    const key = `base:${dom.id}`;
    let names = b.memo.get(key);
    if (names === undefined) {
      const a = this.fresh('a');
      const z = this.fresh('z');
      const n = this.fresh('n');
      if (dom.kind === 'list') {
        const off = this.param(dom.offsets);
        b.lines.push(`const ${a} = ${off}[e], ${z} = ${off}[e + 1], ${n} = ${z} - ${a};`);
      } else {
        const lens = dom.parts.map((p) => this.bases(p).n);
        b.lines.push(`const ${a} = 0, ${n} = ${lens.join(' + ')}, ${z} = ${n};`);
      }
      names = `${a},${z},${n}`;
      b.memo.set(key, names);
    }
    const [a, z, n] = names.split(',') as [string, string, string];
    return { a, z, n };
  }

  private frameOf(v: Var, block: Block): Frame {
    for (let f: Frame | null = block.frame; f; f = f.parent) if (f.v === v) return f;
    fail(
      `a value of ${v.dom.name} objects is used outside a reduction over ${v.dom.name}`,
      `Reduce it to one value per event first (.sum(), .any(), .count(), ...) or compute it on its own.`,
    );
  }

  /** Index expression of a variable: its loop counter, or the stored winner of an argmin/argmax. */
  private index(v: Var, block: Block): string {
    if (!v.bound) return this.frameOf(v, block).idx;
    return this.winners(v.bound.red, block)[v.bound.slot + 1];
  }

  /** Accumulator and winner indices of a reduction, emitting it first if needed. */
  private winners(red: ReduceNode, block: Block): string[] {
    this.emit(red, block);
    for (let b: Block | null = block; b; b = b.parent) {
      const names = b.reds.get(red.key);
      if (names) return names;
    }
    fail('internal: argmin winner not in scope', 'Report this as a bug.');
  }

  /** Position of the object within its event's list. */
  private local(dom: Domain, idx: string): string {
    return dom.kind === 'list' ? `(${idx} - ${this.bases(dom).a})` : idx;
  }

  private target(node: Node, block: Block): Block {
    let deepest: Frame = this.root;
    for (const v of node.fv) {
      const f = this.frameOf(v, block);
      if (f.depth > deepest.depth) deepest = f;
    }
    return deepest === block.frame ? block : deepest.preamble;
  }

  private lookup(key: string, block: Block): string | undefined {
    for (let b: Block | null = block; b; b = b.parent) {
      const hit = b.memo.get(key);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  num(node: Node, block: Block): string {
    const s = this.emit(node, block);
    return node.type === 'bool' ? `(${s} ? 1 : 0)` : s;
  }

  bool(node: Node, block: Block): string {
    const s = this.emit(node, block);
    return node.type === 'num' ? `(${s} !== 0)` : s;
  }

  /** A JavaScript expression for `node`'s value in `block`; statements it needs go into `block` or an outer loop. */
  emit(node: Node, block: Block): string {
    switch (node.k) {
      case 'const':
        return literal(node.value);
      case 'event':
        if (this.root.v !== null) fail('internal: event column in a flat loop', 'Report this as a bug.');
        if (!this.eventColumns.includes(node.col)) this.eventColumns.push(node.col);
        return `${this.param(node.col)}[e]`;
      case 'len':
        return this.bases(node.dom).n;
      case 'field':
        if (node.v.dom.kind === 'list' && node.name !== '@part') {
          this.domains.add(node.v.dom);
          const idx = this.index(node.v, block);
          if (node.name === '@index') return this.local(node.v.dom, idx);
          if (node.name === '@global') return idx;
          return `${this.param(this.column(node.v.dom, node.name)[0])}[${idx}]`;
        }
        break;
      case 'where':
        fail('internal: unlifted filter', 'Report this as a bug.');
    }
    const cached = this.cache.get(node.key);
    if (cached !== undefined) return cached;
    const t = this.target(node, block);
    const hit = this.lookup(node.key, t);
    if (hit !== undefined) return hit;
    let name: string;
    if (node.k === 'reduce') name = this.reduce(node, t);
    else if (node.k === 'op' && (node.op === 'and' || node.op === 'or')) {
      name = this.fresh('t');
      t.lines.push(`let ${name} = ${this.bool(node.args[0], t)};`);
      const child = new Block(t, t.frame);
      const rhs = this.bool(node.args[1], child);
      t.lines.push(`if (${node.op === 'and' ? name : `!${name}`}) {`, ...child.lines, `${name} = ${rhs};`, '}');
    } else if (node.k === 'op' && node.op === 'select') {
      // Only the chosen branch runs: the other may read a winner that does not exist (index −1). The condition
      // is emitted first, so the branch reuses what it computed (m² > 0 ? √m² : 0 takes m² once).
      const test = this.bool(node.args[0], t);
      name = this.fresh('t');
      t.lines.push(`let ${name} = ${this.num(node.args[2], t)};`);
      const child = new Block(t, t.frame);
      const value = this.num(node.args[1], child);
      t.lines.push(`if (${test}) {`, ...child.lines, `${name} = ${value};`, '}');
    } else {
      name = this.fresh('t');
      t.lines.push(`const ${name} = ${this.expression(node, t)};`);
    }
    t.memo.set(node.key, name);
    return name;
  }

  private expression(node: Node, t: Block): string {
    if (node.k === 'found') return `(${this.winners(node.red, t)[1]} >= 0)`;
    if (node.k === 'field') {
      const dom = node.v.dom;
      const l = this.index(node.v, t);
      if (dom.kind === 'list') return '0'; // '@part' of a plain list
      if (node.name === '@index') return l;
      if (node.name === '@global')
        fail(
          'globalIndex of a concatenation',
          'Use .index (the position in the concatenation), or the global index of each input collection.',
        );
      // l is the position in the concatenation: part p holds positions [n0 + … + n(p−1), n0 + … + np).
      const cols = node.name === '@part' ? undefined : this.column(dom, node.name);
      const lens = dom.parts.map((q) => this.bases(q).n);
      const before = (p: number): string => (p === 0 ? '' : ` - (${lens.slice(0, p).join(' + ')})`);
      const value = (p: number): string =>
        cols ? `${this.param(cols[p])}[${this.bases(dom.parts[p]).a} + ${l}${before(p)}]` : `${p}`;
      let expr = value(dom.parts.length - 1);
      for (let p = dom.parts.length - 2; p >= 0; p--)
        expr = `(${l} < ${lens.slice(0, p + 1).join(' + ')} ? ${value(p)} : ${expr})`;
      return expr;
    }
    if (node.k === 'lookup') {
      // Bin per dimension (clamped; −1 for NaN), then the row-major value; NaN when any argument is NaN.
      const { edges, values } = node.table;
      const bins = node.args.map((a, d) => `binIndex(${this.param(edges[d])}, ${this.num(a, t)})`);
      const names = bins.map(() => this.fresh('t'));
      bins.forEach((b, d) => t.lines.push(`const ${names[d]} = ${b};`));
      let flat = names[0];
      for (let d = 1; d < names.length; d++) flat = `(${flat} * ${edges[d].length - 1} + ${names[d]})`;
      return `(${names.map((b) => `${b} < 0`).join(' || ')} ? NaN : ${this.param(values)}[${flat}])`;
    }
    if (node.k !== 'op') fail(`internal: cannot emit ${node.k}`, 'Report this as a bug.');
    const [template] = OPS[node.op];
    const args = node.args.map((a, i) => {
      const wantsBool = node.op === 'not' || (node.op === 'select' && i === 0);
      return wantsBool ? this.bool(a, t) : this.num(a, t);
    });
    return template.replace(/\$(\d)/g, (_, d: string) => args[Number(d)]);
  }

  /**
   * Loops of a reduction, emitted into `t`; returns the accumulator's name. Reductions of the sink over the same
   * objects with the same filter (the sum and the count of the same selected jets) share one loop.
   */
  private reduce(red: ReduceNode, t: Block): string {
    const dom = red.vars[0].dom;
    const { a, z } = this.bases(dom);
    const label = this.fresh('L');
    const group = EARLY_EXIT.has(red.r)
      ? [red]
      : (this.siblings.get(siblingKey(red)) ?? [red]).filter((r) => r === red || this.lookup(r.key, t) === undefined);
    const accs = group.map(() => this.fresh('r'));
    const bests = group.map((r) => (KEEPS_INDEX.has(r.r) ? red.vars.map(() => this.fresh('b')) : []));
    // Combinations: events with fewer objects than members have no candidate, so they skip the per-object
    // pass and the loops (most events, for triples).
    const outer = t;
    if (red.vars.length >= 2) t = new Block(outer, outer.frame);
    const frames: Frame[] = [];
    let parent = t;
    for (const v of red.vars) {
      const f: Frame = {
        v,
        idx: this.fresh('i'),
        depth: parent.frame.depth + 1,
        parent: parent.frame,
        preamble: undefined as unknown as Block,
      };
      f.preamble = new Block(parent, f);
      frames.push(f);
      parent = f.preamble;
    }
    if (red.vars.length >= 2)
      this.prepass(
        red,
        group.map((r) => r.body),
        t,
        frames,
      );
    // Each condition is tested in the outermost loop that knows all of its variables, so a failing object
    // skips every candidate built on it.
    const conjuncts = red.cond ? conjunctsOf(red.cond) : [];
    const level = (c: Node): number => Math.max(0, ...c.fv.map((v) => red.vars.indexOf(v)));
    // A count over one object with one condition adds the condition (0 or 1) instead of skipping: whether a
    // jet passes a pt cut is random, so the skip mispredicts about every other object (35 % of Q4's loop).
    const branchFree = frames.length === 1 && conjuncts.length === 1 && group.every((r) => r.r === 'count');
    for (let i = 0; i < frames.length; i++) {
      const pre = frames[i].preamble;
      if (branchFree) continue;
      for (const c of conjuncts) if (level(c) === i) pre.lines.push(`if (!${this.bool(c, pre)}) continue;`);
    }
    const inner = frames[frames.length - 1].preamble;
    const idxs = frames.map((f) => f.idx);
    if (branchFree) {
      const pass = this.bool(conjuncts[0], inner);
      for (const acc of accs) inner.lines.push(`${acc} += +!!(${pass});`); // !!: a bool column may hold 2
    }
    group.forEach((r, gi) => {
      const acc = accs[gi];
      if (branchFree) return;
      switch (r.r) {
        case 'sum':
          inner.lines.push(`${acc} += ${this.num(r.body, inner)};`);
          break;
        case 'count':
          inner.lines.push(`${acc}++;`);
          break;
        case 'any':
          inner.lines.push(`if (${this.bool(r.body, inner)}) { ${acc} = true; break ${label}; }`);
          break;
        case 'all':
          inner.lines.push(`if (!${this.bool(r.body, inner)}) { ${acc} = false; break ${label}; }`);
          break;
        default: {
          const cmp = r.r === 'argmin' || r.r === 'min' ? '<' : '>';
          const v = this.num(r.body, inner);
          inner.lines.push(
            `if (${v} ${cmp} ${acc}) { ${acc} = ${v}; ${bests[gi].map((b, i) => `${b} = ${idxs[i]};`).join(' ')} }`,
          );
        }
      }
    });
    let text = '';
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      const start = i === 0 ? a : `${frames[i - 1].idx} + 1`;
      // Member i of k stops k − 1 − i objects before the end: later members need objects after it. Without
      // this, a triple loop computes the pair sums of (i, j) pairs that have no third object, as many as
      // there are triples in the 3–5-jet events that dominate.
      const rest = frames.length - 1 - i;
      const end = rest > 0 ? `${z} - ${rest}` : z;
      text = `for (let ${f.idx} = ${start}; ${f.idx} < ${end}; ${f.idx}++) {\n${f.preamble.lines.join('\n')}\n${text}}\n`;
    }
    group.forEach((r, gi) =>
      outer.lines.push(`let ${accs[gi]} = ${INIT[r.r]};${bests[gi].map((b) => ` let ${b} = -1;`).join('')}`),
    );
    t.lines.push(`${label}: ${text}`);
    if (t !== outer) outer.lines.push(`if (${this.bases(dom).n} >= ${red.vars.length}) {`, ...t.lines, '}');
    group.forEach((r, gi) => {
      if (r.r === 'min' || r.r === 'max') outer.lines.push(`if (${bests[gi][0]} < 0) ${accs[gi]} = NaN;`);
      outer.reds.set(r.key, [accs[gi], ...bests[gi]]);
      if (r !== red) outer.memo.set(r.key, accs[gi]);
    });
    return accs[group.indexOf(red)];
  }

  /**
   * Values of one candidate member that cost a transcendental call (px, E, …) are computed once per object
   * into scratch arrays before the combinations loop, instead of once per candidate.
   */
  private prepass(red: ReduceNode, bodies: readonly Node[], t: Block, frames: readonly Frame[]): void {
    const dom = red.vars[0].dom;
    const costly = new Map<Node, boolean>();
    const isCostly = (x: Node): boolean => {
      let c = costly.get(x);
      if (c === undefined) {
        c = x.k === 'reduce' || (x.k === 'op' && (COSTLY.has(x.op) || x.args.some(isCostly)));
        costly.set(x, c);
      }
      return c;
    };
    const groups = new Map<string, { canon: Node; members: [Node, Var][] }>();
    const seen = new Set<Node>();
    const cv = cacheVar(dom);
    const visit = (x: Node): void => {
      if (seen.has(x)) return;
      seen.add(x);
      const v = x.fv[0];
      if (
        x.k === 'op' &&
        x.fv.length === 1 &&
        v &&
        !v.bound &&
        red.vars.includes(v) &&
        x.type === 'num' &&
        isCostly(x)
      ) {
        const canon = subst(x, v, cv);
        let g = groups.get(canon.key);
        if (!g) groups.set(canon.key, (g = { canon, members: [] }));
        g.members.push([x, v]);
        return;
      }
      if (x.k === 'op' || x.k === 'lookup') x.args.forEach(visit);
      else if (x.k === 'where') {
        visit(x.x);
        visit(x.c);
      }
    };
    bodies.forEach(visit);
    if (red.cond) visit(red.cond);
    if (groups.size === 0) return;
    const { a, z, n } = this.bases(dom);
    const f: Frame = {
      v: cv,
      idx: this.fresh('u'),
      depth: t.frame.depth + 1,
      parent: t.frame,
      preamble: undefined as unknown as Block,
    };
    f.preamble = new Block(t, f);
    for (const g of groups.values()) {
      const s = this.fresh('s');
      this.scratch.push(s);
      // A local alias: the loops then index a constant, not a closure variable that could be reassigned.
      const ls = this.fresh('S');
      t.lines.push(`if (${s}.length < ${n}) ${s} = new Float64Array(2 * ${n});`, `const ${ls} = ${s};`);
      f.preamble.lines.push(`${ls}[${this.local(dom, f.idx)}] = ${this.num(g.canon, f.preamble)};`);
      for (const [x, v] of g.members)
        this.cache.set(x.key, `${ls}[${this.local(dom, frames[red.vars.indexOf(v)].idx)}]`);
    }
    t.lines.push(`for (let ${f.idx} = ${a}; ${f.idx} < ${z}; ${f.idx}++) {\n${f.preamble.lines.join('\n')}\n}`);
  }
}

function conjunctsOf(c: Node): Node[] {
  return c.k === 'op' && c.op === 'and' ? c.args.flatMap(conjunctsOf) : [c];
}

export interface CompiledSink {
  /** Outputs, each with one entry per event (event-level) or per object (object-level) that passed the filter. */
  readonly values: NumericArray[];
}

const compiled = new Map<string, (n: number, ...arrays: NumericArray[]) => number>();

/** Number of compiled loops in the cache (for tests and diagnostics). */
export function compiledLoops(): number {
  return compiled.size;
}

function hasEventParts(node: Node, seen = new Set<Node>()): boolean {
  if (seen.has(node)) return false;
  seen.add(node);
  switch (node.k) {
    case 'const':
      return false;
    case 'field':
      return node.v.bound !== undefined || node.name.startsWith('@');
    case 'op':
    case 'lookup':
      return node.args.some((a) => hasEventParts(a, seen));
    case 'where':
      return hasEventParts(node.x, seen) || hasEventParts(node.c, seen);
    default:
      return true;
  }
}

/**
 * Runs the graph: `outputs` share one filter (or none). Event-level outputs give one entry per event that
 * passes; outputs that depend on one collection's objects give one entry per object that passes (flattened).
 */
export function run(outputs: readonly Node[]): CompiledSink {
  if (outputs.length === 0) fail('nothing to compute', 'Pass at least one expression.');
  let cond: Node | undefined;
  const values = outputs.map((o, i) => {
    const c = o.k === 'where' ? o.c : undefined;
    if (i === 0) cond = c;
    else if (c !== cond && (c?.key ?? '') !== (cond?.key ?? '')) {
      fail(
        `output ${i} is filtered differently from output 0`,
        'Compute differently filtered values in separate calls.',
      );
    }
    return o.k === 'where' ? o.x : o;
  });
  const fv = [...new Set([...values.flatMap((v) => v.fv), ...(cond?.fv ?? [])])];
  if (fv.length > 1) {
    fail(
      `the outputs depend on objects of ${fv.map((v) => v.dom.name).join(' and ')} at once`,
      'Reduce over one collection (e.g. .any(), .sum(), argmin().get()) so each output has one value per event or per object of a single collection.',
      // the text front end (draw, define) rewords this in its own syntax from the collections' names
      { collections: fv.map((v) => v.dom.name) },
    );
  }
  const v = fv[0];
  const flat =
    v !== undefined && v.dom.kind === 'list' && ![...values, ...(cond ? [cond] : [])].some((x) => hasEventParts(x));
  const roots = [...values, ...(cond ? [cond] : [])];
  const shape = shapeOf(roots);
  const planKey = `${values.length}:${cond ? 'c' : ''}:${shape.key}`;
  const cached = plans.get(planKey);
  if (cached) return execute(cached, shape.leaves);
  const g = new Generator(flat ? v : undefined);
  g.siblings = collectSiblings([...values, ...(cond ? [cond] : [])]);
  const root = g.root.preamble;
  let body: Block = root;
  let sinkFrame: Frame | undefined;
  if (v && !flat) {
    sinkFrame = { v, idx: 'g', depth: 1, parent: g.root, preamble: undefined as unknown as Block };
    sinkFrame.preamble = new Block(root, sinkFrame);
    body = sinkFrame.preamble;
  }
  // One guard per conjunct, in order: later ones (and the outputs) see what earlier ones computed (an argmin
  // tested for existence is not run again to read its winner).
  if (cond) for (const c of conjunctsOf(cond)) body.lines.push(`if (!${g.bool(c, body)}) continue;`);
  const exprs = values.map((x) => (x.type === 'bool' ? `(${g.emit(x, body)} ? 1 : 0)` : g.emit(x, body)));
  body.lines.push(...exprs.map((e, i) => `o${i}[k] = ${e};`), 'k++;');

  let loop: string;
  if (flat) {
    const off = g.param((v.dom as Extract<Domain, { kind: 'list' }>).offsets);
    g.domains.add(v.dom);
    loop = `for (let g = ${off}[0], end = ${off}[n]; g < end; g++) {\n${root.lines.join('\n')}\n}`;
  } else {
    if (sinkFrame) {
      const { a, z } = g.bases(v.dom);
      root.lines.push(`for (let g = ${a}; g < ${z}; g++) {\n${sinkFrame.preamble.lines.join('\n')}\n}`);
    }
    loop = `for (let e = 0; e < n; e++) {\n${root.lines.join('\n')}\n}`;
  }
  // The plan: the compiled loop and where each of its inputs sits among the graph's leaves, so that the next
  // chunk with the same structure skips the code generation.
  const leafOf = (arr: object): number => {
    const i = shape.index.get(arr);
    if (i === undefined) fail('internal: a loop input is not a leaf of the graph', 'Report this as a bug.');
    return i;
  };
  const lists = new Set<ListDomain>();
  for (const d of g.domains) for (const q of d.kind === 'list' ? [d] : d.parts) lists.add(q);
  const fieldChecks: [number, number, string][] = [];
  for (const [d, cols] of g.fieldColumns) {
    if (d.kind !== 'list') continue;
    for (const [name, col] of cols) fieldChecks.push([leafOf(d.offsets), leafOf(col), `${d.name}.${name}`]);
  }
  const outKinds = values.map((x) => {
    if (x.type === 'bool') return -2;
    // A column read as is keeps its dtype (the same values, and half the bytes for Float32 inputs).
    const src =
      x.k === 'event'
        ? x.col
        : x.k === 'field' && x.v.dom.kind === 'list' && !x.name.startsWith('@')
          ? x.v.dom.columns[x.name]
          : undefined;
    return src ? leafOf(src) : -1;
  });
  const dtypes = g.params.map((q) => q.constructor.name).join(',');
  const src =
    `"use strict"; /* ${dtypes} */\n${g.scratch.map((q) => `let ${q} = new Float64Array(16);`).join('\n')}\n` +
    `return function fused(n, ${[...g.params.map((_, i) => `p${i}`), ...values.map((_, i) => `o${i}`)].join(', ')}) {\nlet k = 0;\n${loop}\nreturn k;\n};`;
  let fn = compiled.get(src);
  if (fn === undefined) {
    try {
      fn = new Function('wrapPhi', 'binIndex', src)(wrapPhi, binIndex) as (
        n: number,
        ...arrays: NumericArray[]
      ) => number;
    } catch (e) {
      fail(
        `could not compile the fused loop (${(e as Error).message})`,
        'Fused expressions need code generation from strings; run without --disallow-code-generation-from-strings or use the eager kernels.',
      );
    }
    compiled.set(src, fn);
    // Diagnostics: the generated loop, once per new source (RISTRETTO_FUSED_SOURCE=1).
    if (typeof process !== 'undefined' && process.env?.RISTRETTO_FUSED_SOURCE)
      process.stderr.write(`fused loop:\n${src}\n`);
  }
  const plan: Plan = {
    fn,
    params: g.params.map(leafOf),
    eventColumns: g.eventColumns.map(leafOf),
    lists: [...lists].map((d) => [leafOf(d.offsets), d.name] as [number, string]),
    fieldChecks,
    capacity: v === undefined ? null : (v.dom.kind === 'list' ? [v.dom] : v.dom.parts).map((d) => leafOf(d.offsets)),
    outs: outKinds,
  };
  if (plans.size > 10_000) plans.clear(); // many distinct analyses in one process: recompile rather than grow
  plans.set(planKey, plan);
  return execute(plan, shape.leaves);
}

interface Plan {
  readonly fn: (n: number, ...arrays: NumericArray[]) => number;
  /** Leaf index of each loop parameter. */
  readonly params: readonly number[];
  readonly eventColumns: readonly number[];
  /** Offsets leaf and collection name of every list read. */
  readonly lists: readonly (readonly [number, string])[];
  /** Offsets leaf, column leaf and name of every column read. */
  readonly fieldChecks: readonly (readonly [number, number, string])[];
  /** Offsets leaves of the sink's list(s) (capacity = their objects); null for an event-level sink. */
  readonly capacity: readonly number[] | null;
  /** Per output: −2 Uint8Array, −1 Float64Array, else the leaf whose dtype it keeps. */
  readonly outs: readonly number[];
}

const plans = new Map<string, Plan>();

/**
 * Output buffers, reused by every sink: a sink fills up to `capacity` entries (all events or objects) but keeps
 * only those that pass, often a few percent. Allocating (and zeroing) full-capacity arrays per chunk and
 * collecting them again cost more than the loop of a small query; the entries kept are copied out instead.
 * Per dtype, one buffer per output position (outputs of one sink need distinct buffers).
 */
const outPool = new Map<new (n: number) => NumericArray, NumericArray[]>();

function outBuffer(ctor: new (n: number) => NumericArray, position: number, capacity: number): NumericArray {
  let list = outPool.get(ctor);
  if (!list) outPool.set(ctor, (list = []));
  let buf = list[position];
  if (buf === undefined || buf.length < capacity) list[position] = buf = new ctor(Math.max(capacity, 1024));
  return buf;
}

function execute(plan: Plan, leaves: readonly NumericArray[]): CompiledSink {
  const n = eventCount(plan, leaves);
  let capacity = n;
  if (plan.capacity) {
    capacity = 0;
    for (const i of plan.capacity) capacity += (leaves[i] as Int32Array)[n] - (leaves[i] as Int32Array)[0];
  }
  const outs = plan.outs.map((o, position) =>
    outBuffer(
      o === -2 ? Uint8Array : o === -1 ? Float64Array : (leaves[o].constructor as new (n: number) => NumericArray),
      position,
      capacity,
    ),
  );
  const k = plan.fn(n, ...plan.params.map((i) => leaves[i]), ...outs);
  // Each result gets its own exact-size copy: callers keep results across chunks, the buffers are reused.
  return { values: outs.map((o) => o.slice(0, k)) };
}

/** Number of events all inputs agree on; every column is checked to cover the objects it is read for. */
function eventCount(plan: Plan, leaves: readonly NumericArray[]): number {
  let n = -1;
  let what = '';
  const agree = (m: number, name: string): void => {
    if (n < 0) {
      n = m;
      what = name;
    } else if (m !== n)
      throw new LengthMismatchError(
        'compute',
        `${name} (events)`,
        n,
        m,
        `All inputs must come from one chunk; ${what} has ${n} events.`,
      );
  };
  for (const i of plan.eventColumns) agree(leaves[i].length, 'an event-level column');
  for (const [i, name] of plan.lists) agree(leaves[i].length - 1, `${name} offsets`);
  if (n < 0) fail('the expressions read no column', 'Build expressions from events or collections (fused(events)).');
  for (const [o, c, name] of plan.fieldChecks) {
    const end = (leaves[o] as Int32Array)[n];
    if (leaves[c].length < end)
      throw new LengthMismatchError(
        'compute',
        name,
        end,
        leaves[c].length,
        `The offsets of ${name.split('.')[0]} need ${end} objects.`,
      );
  }
  return n;
}

export { op };
