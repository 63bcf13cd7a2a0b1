/**
 * The shape of an expression graph: its structure with the inputs abstracted, as a short hash. Every array
 * (event column, offsets, field column) becomes its position in first-visit order, every collection and
 * variable too, and each column's dtype is part of the shape. Equal shapes (the same processor on the next
 * chunk) generate the same loop, with the inputs at the same positions, so a sink whose shape was seen before
 * only binds the new chunk's arrays (compile.ts keeps the plans).
 *
 * Why integers: this runs on every chunk. Building a text token per node and hashing the long ones cost more
 * than the generated loop of a small query (0.3 ms per 100 k-event chunk for ADL Q8); three 32-bit lanes
 * mixed per node cost a few microseconds. 96 bits make a collision between the shapes one process compiles
 * (a handful per analysis) vanishingly unlikely.
 */
import type { NumericArray } from '../types.ts';
import type { Domain, Node, Var } from './graph.ts';
import { columnsOf } from './graph.ts';

export interface Shape {
  /** The hash as text (a Map key). */
  readonly key: string;
  /** The arrays read, in first-visit order (a plan names its inputs by position here). */
  readonly leaves: NumericArray[];
  readonly index: Map<object, number>;
}

/** A 32-bit hash of a short name (a field, an operation, a dtype); names are a few characters long. */
function nameHash(s: string): number {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  return x ^ s.length;
}

const TAG = {
  const: 1,
  event: 2,
  len: 3,
  field: 4,
  op: 5,
  where: 6,
  reduce: 7,
  found: 8,
  lookup: 17,
  dom: 9,
  list: 10,
  concat: 11,
  var: 12,
  bound: 13,
  leaf: 14,
  end: 15,
  ref: 16,
} as const;
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** Three lanes of a running hash; `mix` folds one 32-bit word into all of them. */
class Hasher {
  a = 0x9e3779b9;
  b = 0x85ebca6b;
  c = 0xc2b2ae35;
  mix(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193) + 0x7f4a7c15;
    this.a ^= this.a >>> 15;
    this.b = Math.imul(this.b ^ x, 0x5bd1e995) + 0x27d4eb2f;
    this.b ^= this.b >>> 13;
    this.c = Math.imul(this.c ^ x, 0x2c1b3c6d) + 0x165667b1;
    this.c ^= this.c >>> 16;
  }
}

/** The shape of the graph below `roots` (see the module comment). */
export function shapeOf(roots: readonly Node[]): Shape {
  const leaves: NumericArray[] = [];
  const index = new Map<object, number>();
  const slots = new Map<Node, number>();
  const doms = new Map<Domain, number>();
  const vars = new Map<Var, number>();
  const h = new Hasher();

  const leaf = (x: NumericArray): void => {
    let i = index.get(x);
    if (i === undefined) {
      i = leaves.length;
      leaves.push(x);
      index.set(x, i);
      h.mix(TAG.leaf);
      h.mix(nameHash(x.constructor.name));
    }
    h.mix(i);
  };
  const dom = (d: Domain): void => {
    let i = doms.get(d);
    h.mix(TAG.dom);
    if (i !== undefined) {
      h.mix(i);
      return;
    }
    i = doms.size;
    doms.set(d, i);
    h.mix(i);
    if (d.kind === 'list') {
      h.mix(TAG.list);
      leaf(d.offsets);
    } else {
      h.mix(TAG.concat);
      h.mix(d.parts.length);
      for (const p of d.parts) dom(p);
    }
  };
  const variable = (v: Var): void => {
    if (v.bound) {
      h.mix(TAG.bound);
      h.mix(v.bound.slot);
      visit(v.bound.red);
      return;
    }
    let i = vars.get(v);
    h.mix(TAG.var);
    if (i !== undefined) {
      h.mix(i);
      return;
    }
    i = vars.size;
    vars.set(v, i);
    h.mix(i);
    dom(v.dom);
  };
  // One running hash over the tokens of a depth-first walk. A node seen before (the graph is a DAG with much
  // sharing) is folded in as its number in first-visit order, as leaves, domains and variables are, so equal
  // graphs give equal token sequences and the numbering of the inputs is part of the result.
  const visit = (x: Node): void => {
    const hit = slots.get(x);
    if (hit !== undefined) {
      h.mix(TAG.ref);
      h.mix(hit);
      return;
    }
    slots.set(x, slots.size);
    h.mix(TAG[x.k]);
    switch (x.k) {
      case 'const':
        bits[0] = x.value;
        h.mix(words[0]);
        h.mix(words[1]);
        break;
      case 'event':
        leaf(x.col);
        break;
      case 'len':
        dom(x.dom);
        break;
      case 'field':
        variable(x.v);
        h.mix(nameHash(x.name));
        if (!x.name.startsWith('@')) for (const c of columnsOf(x.v.dom, x.name)) leaf(c);
        break;
      case 'op':
        h.mix(nameHash(x.op));
        for (const a of x.args) visit(a);
        break;
      case 'where':
        visit(x.x);
        visit(x.c);
        break;
      case 'reduce':
        h.mix(nameHash(x.r));
        h.mix(x.vars.length);
        for (const v of x.vars) variable(v);
        visit(x.body);
        if (x.cond) visit(x.cond);
        else h.mix(0);
        break;
      case 'found':
        visit(x.red);
        break;
      case 'lookup':
        // The bins per dimension are literals of the generated loop (strides), so they are part of the shape.
        h.mix(x.args.length);
        for (const e of x.table.edges) {
          h.mix(e.length);
          leaf(e);
        }
        leaf(x.table.values);
        for (const a of x.args) visit(a);
        break;
    }
    h.mix(TAG.end);
  };
  for (const r of roots) visit(r);
  return { key: `${(h.a >>> 0).toString(36)}.${(h.b >>> 0).toString(36)}.${(h.c >>> 0).toString(36)}`, leaves, index };
}
