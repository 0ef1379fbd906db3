/**
 * Engine infrastructure: models no kernel file.
 * The value codec of the event store (event-store.ts): every field of an event that is not a column is
 * written into a byte pool as a *shape* (the structure: keys, nesting and value kinds, interned once and
 * found by walking a trie of its tokens, so no signature string is built per event) plus its values as
 * variable-length integers. Strings are interned, and a string with numbers in it (every explanation:
 * "… 1 TCEs in window slot 0 entries 2048–2048 …") is stored as an interned template and its numbers, so a
 * million distinct explanations share a handful of templates. read() gives back the value written, equal
 * to the original (bigints as bigints, -0, NaN and very large bigints included).
 */
import { StringTemplates, TOK_BIGHEX, TOK_HEX } from './string-templates.ts';

const POOL_SHIFT = 20;
export const POOL_CHUNK = 1 << POOL_SHIFT;
/** the pool's offsets are Uint32 */
export const POOL_MAX = 2 ** 32 - 1;

/** |v| below this is written as a variable-length integer (zigzag doubles it: must stay exact) */
const SMALL = 2 ** 52;
const SMALL_BIG = BigInt(SMALL);

/** shape tokens: structure, leaf kinds (the letters Node leaves carry), then KEY + key id */
export const OPEN_OBJ = 1;
export const CLOSE_OBJ = 2;
const OPEN_ARR = 3;
const CLOSE_ARR = 4;
const LEAVES = 'cndbBsxTFNUo';
const LEAF = 8; // + index in LEAVES
const KEY = 32;
export const L_COL = LEAF + 0;
const L_NUM = LEAF + 1;
const L_DBL = LEAF + 2;
const L_BIG = LEAF + 3;
const L_HUGE = LEAF + 4;
const L_STR = LEAF + 5;
const L_TPL = LEAF + 6;
const L_TRUE = LEAF + 7;
const L_FALSE = LEAF + 8;
const L_NULL = LEAF + 9;
const L_UNDEF = LEAF + 10;
const L_OPAQUE = LEAF + 11;

/** shapes are found by walking a trie of their tokens: no signature string is built per event */
interface Trie {
  /** the first child, inline (most nodes have one): its token, or for a key token the key itself */
  t0: number;
  k0: string | null;
  c0: Trie | null;
  /** further children */
  next: Map<number | string, Trie> | null;
  shape: number;
}

const trieNode = (): Trie => ({ t0: 0, k0: null, c0: null, next: null, shape: -1 });

export type Node =
  { t: 'obj'; keys: string[]; kids: Node[] } | { t: 'arr'; kids: Node[] } | { t: 'leaf'; c: string };

export const isPlain = (v: object): boolean => {
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
};

/** the byte pool and the interned strings, templates and shapes of one event store */
export class ValueCodec {
  // -- the byte pool --
  readonly pool: Uint8Array[] = [];
  wpos = 0;
  // -- interned strings, templates, shapes --
  private readonly tpl = new StringTemplates();
  readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  readonly shapes: Node[] = [];
  private readonly trie: Trie = trieNode();
  private readonly keys: string[] = [];
  private readonly keyIds = new Map<string, number>();
  /** values that are not plain data (never produced by the engine; kept as they are) */
  private readonly opaque: unknown[] = [];
  private ownBytes = 0;
  /** an estimate of the interned strings, templates and shapes (two bytes a character, a header each) */
  get internedBytes(): number {
    return this.ownBytes + this.tpl.bytes;
  }
  // -- reading state --
  rpos = 0;
  // -- encoding scratch: the shape being walked, its tokens, a string's number tokens --
  private node: Trie = this.trie;
  private toks = new Int32Array(256);
  private nt = 0;

  begin(): void {
    this.node = this.trie;
    this.nt = 0;
  }

  tok(t: number): void {
    const cur = this.node;
    let n: Trie | undefined;
    if (cur.t0 === t && cur.k0 === null) n = cur.c0!;
    else {
      n = cur.next?.get(t);
      if (n === undefined) n = this.child(cur, t, null);
    }
    this.node = n;
    this.record(t);
  }

  /** the token of an object key: children are matched by the key string itself (no lookup of its id) */
  keyTok(key: string): void {
    const cur = this.node;
    let n: Trie | undefined;
    if (cur.k0 === key) n = cur.c0!;
    else {
      n = cur.next?.get(key);
      if (n === undefined) n = this.child(cur, 0, key);
    }
    this.node = n;
    this.record(KEY + (n === cur.c0 && cur.t0 >= KEY ? cur.t0 - KEY : this.keyId(key)));
  }

  private child(cur: Trie, t: number, key: string | null): Trie {
    const n = trieNode();
    if (cur.c0 === null) {
      cur.c0 = n;
      cur.t0 = key === null ? t : KEY + this.keyId(key);
      cur.k0 = key;
    } else (cur.next ??= new Map()).set(key ?? t, n);
    this.ownBytes += 160;
    return n;
  }

  private record(t: number): void {
    if (this.nt === this.toks.length) {
      const b = new Int32Array(this.toks.length * 2);
      b.set(this.toks);
      this.toks = b;
    }
    this.toks[this.nt++] = t;
  }

  /** the id of the shape just walked (parsed from its tokens the first time it is seen) */
  end(): number {
    const n = this.node;
    if (n.shape < 0) {
      n.shape = this.shapes.length;
      let p = 0;
      const toks = this.toks;
      const keys = this.keys;
      const parse = (): Node => {
        const t = toks[p++]!;
        if (t === OPEN_OBJ) {
          const o = { t: 'obj' as const, keys: [] as string[], kids: [] as Node[] };
          while (toks[p] !== CLOSE_OBJ) {
            o.keys.push(keys[toks[p++]! - KEY]!);
            o.kids.push(parse());
          }
          p++;
          return o;
        }
        if (t === OPEN_ARR) {
          const a = { t: 'arr' as const, kids: [] as Node[] };
          while (toks[p] !== CLOSE_ARR) a.kids.push(parse());
          p++;
          return a;
        }
        return { t: 'leaf', c: LEAVES[t - LEAF]! };
      };
      this.shapes.push(parse());
      this.ownBytes += 64 * this.nt;
    }
    return n.shape;
  }

  private keyId(key: string): number {
    let id = this.keyIds.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.keyIds.set(key, id);
      this.ownBytes += 2 * key.length + 48;
    }
    return id;
  }

  intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
      this.ownBytes += 2 * s.length + 48;
    }
    return id;
  }

  /** writes one value and walks its shape */
  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v) && v > -SMALL && v < SMALL && !Object.is(v, -0)) {
          this.tok(L_NUM);
          this.varint(v < 0 ? -v * 2 - 1 : v * 2);
        } else {
          this.tok(L_DBL);
          this.float(v);
        }
        return;
      case 'bigint':
        if (v > -SMALL_BIG && v < SMALL_BIG) {
          const x = Number(v);
          this.tok(L_BIG);
          this.varint(x < 0 ? -x * 2 - 1 : x * 2);
        } else {
          this.tok(L_HUGE);
          this.bigvarint(v);
        }
        return;
      case 'string':
        this.string(v);
        return;
      case 'boolean':
        this.tok(v ? L_TRUE : L_FALSE);
        return;
      case 'undefined':
        this.tok(L_UNDEF);
        return;
      case 'object':
        if (v === null) {
          this.tok(L_NULL);
          return;
        }
        if (Array.isArray(v)) {
          this.tok(OPEN_ARR);
          for (let i = 0; i < v.length; i++) this.value(v[i]);
          this.tok(CLOSE_ARR);
          return;
        }
        if (isPlain(v)) {
          this.tok(OPEN_OBJ);
          const o = v as Record<string, unknown>;
          for (const key in o) {
            this.keyTok(key);
            this.value(o[key]);
          }
          this.tok(CLOSE_OBJ);
          return;
        }
    }
    this.tok(L_OPAQUE);
    this.varint(this.opaque.length);
    this.opaque.push(v);
  }

  /** a string: interned whole, or (with numbers in it) as a template and its numbers (string-templates.ts) */
  private string(s: string): void {
    const count = this.tpl.scan(s);
    if (count === 0) {
      this.tok(L_STR);
      this.varint(this.intern(s));
      return;
    }
    this.tok(L_TPL);
    this.varint(this.tpl.intern(s, count));
    const t = this.tpl;
    let b = 0;
    for (let j = 0; j < count; j++) {
      if (t.kinds[j] === TOK_BIGHEX) this.bigvarint(t.bigs[b++]!);
      else this.varint(t.vals[j]!);
    }
    t.bigs.length = 0;
  }

  private byte(b: number): void {
    const ci = this.wpos >>> POOL_SHIFT;
    if (ci === this.pool.length) this.pool.push(new Uint8Array(POOL_CHUNK));
    this.pool[ci]![this.wpos & (POOL_CHUNK - 1)] = b;
    this.wpos++;
  }

  /** a non-negative integer below 2^53, 7 bits a byte */
  private varint(v: number): void {
    while (v >= 128) {
      this.byte((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  private bigvarint(v: bigint): void {
    let z = v < 0n ? -v * 2n - 1n : v * 2n;
    while (z >= 128n) {
      this.byte(Number(z & 127n) | 128);
      z >>= 7n;
    }
    this.byte(Number(z));
  }

  private readonly f64 = new Float64Array(1);
  private readonly f64b = new Uint8Array(this.f64.buffer);
  private float(v: number): void {
    this.f64[0] = v;
    for (let j = 0; j < 8; j++) this.byte(this.f64b[j]!);
  }

  private rbyte(): number {
    const p = this.rpos++;
    return this.pool[p >>> POOL_SHIFT]![p & (POOL_CHUNK - 1)]!;
  }

  private rvarint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.rbyte();
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  }

  private rbigvarint(): bigint {
    let z = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.rbyte();
      z |= BigInt(b & 127) << shift;
      if (b < 128) break;
      shift += 7n;
    }
    return z & 1n ? -(z + 1n) / 2n : z / 2n;
  }

  read(node: Node): unknown {
    if (node.t === 'obj') {
      const o: Record<string, unknown> = {};
      for (let j = 0; j < node.keys.length; j++) {
        const key = node.keys[j]!;
        const v = this.read(node.kids[j]!);
        // an own '__proto__' key (JSON.parse makes one) must stay a key, not replace the prototype
        if (key === '__proto__')
          Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
        else o[key] = v;
      }
      return o;
    }
    if (node.t === 'arr') return node.kids.map((x) => this.read(x));
    switch (node.c) {
      case 'n': {
        const z = this.rvarint();
        return z % 2 ? -(z + 1) / 2 : z / 2;
      }
      case 'b': {
        const z = this.rvarint();
        return BigInt(z % 2 ? -(z + 1) / 2 : z / 2);
      }
      case 'B':
        return this.rbigvarint();
      case 'd':
        for (let j = 0; j < 8; j++) this.f64b[j] = this.rbyte();
        return this.f64[0];
      case 's':
        return this.strings[this.rvarint()];
      case 'x': {
        const t = this.tpl.get(this.rvarint());
        let s = t.parts[0]!;
        for (let j = 0; j < t.toks.length; j++) {
          const tok = t.toks[j]!;
          if (tok === TOK_BIGHEX) s += '0x' + this.rbigvarint().toString(16);
          else {
            const v = this.rvarint();
            s += tok === TOK_HEX ? '0x' + v.toString(16) : String(v);
          }
          s += t.parts[j + 1]!;
        }
        return s;
      }
      case 'T':
        return true;
      case 'F':
        return false;
      case 'N':
        return null;
      case 'U':
        return undefined;
      case 'o':
        return this.opaque[this.rvarint()];
    }
    throw new Error(`event store: unknown shape leaf '${node.c}'`);
  }

  skip(node: Node): void {
    if (node.t !== 'leaf') {
      for (const k of node.kids) this.skip(k);
      return;
    }
    switch (node.c) {
      case 'n':
      case 'b':
      case 's':
      case 'o':
        this.rvarint();
        return;
      case 'B':
        this.rbigvarint();
        return;
      case 'd':
        this.rpos += 8;
        return;
      case 'x': {
        const t = this.tpl.get(this.rvarint());
        for (const tok of t.toks) {
          if (tok === TOK_BIGHEX) this.rbigvarint();
          else this.rvarint();
        }
        return;
      }
    }
  }
}
