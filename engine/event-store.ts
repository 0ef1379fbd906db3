/**
 * The event log of a run stored by column (issue 8: runs of a million ioctls). An event object costs about
 * 1.4 KB of heap (its explanation string alone a few hundred bytes); here it costs well under 200 bytes:
 *
 *   - typed-array columns, in chunks of 65,536 events: seq, kind, pid, op (interned), ret, line and the
 *     locked_vm record (an index: consecutive events that share their lockedVm/breakdown objects, as the
 *     recorder hands them out while nothing was charged, share one record);
 *   - everything else of the event (fd, args, out, errno, explain, deltas, expectation texts, …) encoded
 *     into a byte pool as a *shape* (the structure: keys, nesting and value kinds, interned once) plus its
 *     values as variable-length integers. Strings are interned, and a string with numbers in it (every
 *     explanation: "… 1 TCEs in window slot 0 entries 2048–2048 …") is stored as an interned template and
 *     its numbers, so a million distinct explanations share a handful of templates.
 *
 * at(i) materialises an event object equal to the one pushed (same keys in the same order, bigints as
 * bigints, -0, NaN and very large bigints included); the columns answer the common questions (kind, pid,
 * ret, locked_vm) without materialising anything. Nothing here is specific to one event kind, so kinds
 * added later (hcall, syscall, …) are stored like the rest.
 */
import type { EventList, LockedVmBreakdown, RunEvent } from './events.ts';

const CHUNK_SHIFT = 16;
const CHUNK = 1 << CHUNK_SHIFT;
const POOL_SHIFT = 20;
const POOL_CHUNK = 1 << POOL_SHIFT;
/** the pool's offsets are Uint32 */
const POOL_MAX = 2 ** 32 - 1;

const KINDS = ['ioctl', 'action', 'expect', 'log', 'hcall', 'syscall'] as const;
const KIND_CODE: Record<string, number> = { ioctl: 0, action: 1, expect: 2, log: 3, hcall: 4, syscall: 5 };

/** |v| below this is written as a variable-length integer (zigzag doubles it: must stay exact) */
const SMALL = 2 ** 52;
const SMALL_BIG = BigInt(SMALL);

/** a number token of a string: decimal, hex written as a number, hex written as a bigint */
const enum Tok {
  Dec = 0,
  Hex = 1,
  BigHex = 2,
}

/** shape tokens: structure, leaf kinds (the letters Node leaves carry), then KEY + key id */
const OPEN_OBJ = 1;
const CLOSE_OBJ = 2;
const OPEN_ARR = 3;
const CLOSE_ARR = 4;
const LEAVES = 'cndbBsxTFNUo';
const LEAF = 8; // + index in LEAVES
const KEY = 32;
const L_COL = LEAF + 0;
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

type Node =
  { t: 'obj'; keys: string[]; kids: Node[] } | { t: 'arr'; kids: Node[] } | { t: 'leaf'; c: string };

interface Template {
  parts: string[];
  toks: Tok[];
}

interface Columns {
  seq: Uint32Array;
  kind: Uint8Array;
  pid: Int32Array;
  op: Uint32Array;
  ret: Int32Array;
  line: Int32Array;
  acct: Uint32Array;
  shape: Uint32Array;
  off: Uint32Array;
}

const COLUMN_BYTES = 4 + 1 + 4 + 4 + 4 + 4 + 4 + 4 + 4;

function columns(): Columns {
  return {
    seq: new Uint32Array(CHUNK),
    kind: new Uint8Array(CHUNK),
    pid: new Int32Array(CHUNK),
    op: new Uint32Array(CHUNK),
    ret: new Int32Array(CHUNK),
    line: new Int32Array(CHUNK),
    acct: new Uint32Array(CHUNK),
    shape: new Uint32Array(CHUNK),
    off: new Uint32Array(CHUNK),
  };
}

const isInt32 = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v && !Object.is(v, -0);
const isPlain = (v: object): boolean => {
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
};

/** a growable Uint32 list in one typed array (index lists: small next to the columns) */
class U32List {
  a = new Uint32Array(64);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

export class EventStore implements EventList {
  private readonly cols: Columns[] = [];
  private n = 0;
  // -- the byte pool --
  private readonly pool: Uint8Array[] = [];
  private wpos = 0;
  // -- interned strings, templates, shapes --
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private readonly templates: Template[] = [];
  private readonly shapes: Node[] = [];
  private readonly trie: Trie = trieNode();
  private readonly keys: string[] = [];
  private readonly keyIds = new Map<string, number>();
  /** values that are not plain data (never produced by the engine; kept as they are) */
  private readonly opaque: unknown[] = [];
  private internedBytes = 0;
  // -- locked_vm records --
  private readonly acctShape = new U32List();
  private readonly acctOff = new U32List();
  private lastLocked: unknown = null;
  private lastBreakdown: unknown = null;
  private readonly acctCache = new Map<number, [Record<string, number>, Record<string, LockedVmBreakdown>]>();
  /** indexes of events whose deltas announce hosts or processes (what limits and page sizes follow) */
  private readonly processEvents = new U32List();
  // -- reading state --
  private rpos = 0;
  // -- encoding scratch: the shape being walked, its tokens, a string's number tokens --
  private node: Trie = this.trie;
  private toks = new Int32Array(256);
  private nt = 0;
  private readonly tplVals = new Float64Array(64);
  private tplBigs: bigint[] = [];
  private readonly tplKinds = new Uint8Array(64);
  private readonly tplStarts = new Int32Array(65);
  private readonly tplEnds = new Int32Array(65);
  private readonly templatesByHash = new Map<number, number[]>();

  get length(): number {
    return this.n;
  }

  /**
   * Bytes this store holds: its typed arrays (allocated, not only used) plus an estimate of the interned
   * strings, templates and shapes (two bytes a character and an object header each). Host memory budgets
   * (issue 12) apply to this figure.
   */
  byteSize(): number {
    let b = this.cols.length * CHUNK * COLUMN_BYTES + this.pool.length * POOL_CHUNK;
    b += this.acctShape.a.byteLength + this.acctOff.a.byteLength + this.processEvents.a.byteLength;
    return b + this.internedBytes;
  }

  /** appends one event (the object is not kept) */
  push(e: RunEvent): void {
    const i = this.n;
    const ci = i >>> CHUNK_SHIFT;
    const k = i & (CHUNK - 1);
    if (ci === this.cols.length) this.cols.push(columns());
    const c = this.cols[ci]!;
    if (this.wpos > POOL_MAX - 65536)
      throw new RangeError('the event log is larger than 4 GiB; the run is too large to record');
    const rec = e as unknown as Record<string, unknown>;
    // the locked_vm record first: it may write to the pool, before this event's own bytes start
    const lv = rec.lockedVm;
    const acctable = lv !== null && typeof lv === 'object' && isPlain(lv) && isPlainOrAbsent(rec.breakdown);
    if (acctable) c.acct[k] = this.accounting(lv, rec.breakdown);
    const off = this.wpos;
    this.begin();
    this.tok(OPEN_OBJ);
    for (const key in rec) {
      const v = rec[key];
      this.keyTok(key);
      if (key === 'seq' && typeof v === 'number' && v >= 0 && v <= POOL_MAX && Number.isInteger(v)) {
        c.seq[k] = v;
        this.tok(L_COL);
      } else if (key === 'kind' && typeof v === 'string' && v in KIND_CODE) {
        c.kind[k] = KIND_CODE[v]!;
        this.tok(L_COL);
      } else if (key === 'pid' && isInt32(v)) {
        c.pid[k] = v;
        this.tok(L_COL);
      } else if (key === 'op' && typeof v === 'string') {
        c.op[k] = this.intern(v);
        this.tok(L_COL);
      } else if (key === 'ret' && isInt32(v)) {
        c.ret[k] = v;
        this.tok(L_COL);
      } else if (key === 'line' && isInt32(v)) {
        c.line[k] = v;
        this.tok(L_COL);
      } else if (key === 'lockedVm' && acctable) {
        this.tok(L_COL);
      } else if (key === 'breakdown' && acctable && v !== undefined) {
        this.tok(L_COL);
      } else {
        this.value(v);
      }
    }
    this.tok(CLOSE_OBJ);
    c.shape[k] = this.end();
    c.off[k] = off;
    const d = rec.deltas as { hosts?: unknown; processes?: unknown } | undefined;
    if (d && typeof d === 'object' && (d.hosts !== undefined || d.processes !== undefined))
      this.processEvents.push(i);
    this.n++;
  }

  /** the event at index i, materialised (a new object each time) */
  at(i: number): RunEvent | undefined {
    if (i < 0) i += this.n;
    if (!(i >= 0 && i < this.n)) return undefined;
    return this.decode(i, null) as unknown as RunEvent;
  }

  /**
   * The event at index i with only the fields a fold of the state needs (seq, kind, lockedVm, breakdown,
   * deltas): cheaper than at() because explanations and arguments are skipped, not rebuilt.
   */
  foldView(i: number): RunEvent {
    return this.decode(i, FOLD_KEYS) as unknown as RunEvent;
  }

  *[Symbol.iterator](): Iterator<RunEvent> {
    for (let i = 0; i < this.n; i++) yield this.at(i)!;
  }

  slice(start = 0, end = this.n): RunEvent[] {
    const s = clampIndex(start, this.n);
    const e = clampIndex(end, this.n);
    const out: RunEvent[] = [];
    for (let i = s; i < e; i++) out.push(this.at(i)!);
    return out;
  }

  filter<S extends RunEvent>(pred: (e: RunEvent, i: number) => e is S): S[];
  filter(pred: (e: RunEvent, i: number) => unknown): RunEvent[];
  filter(pred: (e: RunEvent, i: number) => unknown): RunEvent[] {
    const out: RunEvent[] = [];
    for (let i = 0; i < this.n; i++) {
      const e = this.at(i)!;
      if (pred(e, i)) out.push(e);
    }
    return out;
  }

  find(pred: (e: RunEvent, i: number) => unknown): RunEvent | undefined {
    for (let i = 0; i < this.n; i++) {
      const e = this.at(i)!;
      if (pred(e, i)) return e;
    }
    return undefined;
  }

  map<T>(fn: (e: RunEvent, i: number) => T): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.n; i++) out.push(fn(this.at(i)!, i));
    return out;
  }

  /** indexes below `end` of the events whose deltas announce hosts or processes, in order */
  hostOrProcessEventsBefore(end: number): number[] {
    const out: number[] = [];
    const l = this.processEvents;
    for (let j = 0; j < l.n && l.a[j]! < end; j++) out.push(l.a[j]!);
    return out;
  }

  // ---- columns (no materialisation) ----

  seqAt(i: number): number {
    return this.hasColumn(i, 'seq') ? this.col(i).seq[i & (CHUNK - 1)]! : this.at(i)!.seq;
  }
  /** the event's kind, or undefined for a kind stored outside the column (one added later) */
  kindAt(i: number): RunEvent['kind'] | undefined {
    return this.hasColumn(i, 'kind') ? KINDS[this.col(i).kind[i & (CHUNK - 1)]!] : undefined;
  }
  /** pid of an ioctl or action event (undefined when the event has none) */
  pidAt(i: number): number | undefined {
    return this.hasColumn(i, 'pid') ? this.col(i).pid[i & (CHUNK - 1)]! : undefined;
  }
  retAt(i: number): number | undefined {
    return this.hasColumn(i, 'ret') ? this.col(i).ret[i & (CHUNK - 1)]! : undefined;
  }
  /** lockedVm and breakdown of an ioctl or action event (shared objects: do not change them) */
  accountingAt(
    i: number,
  ):
    | { lockedVm: Record<string, number>; breakdown: Record<string, LockedVmBreakdown> | undefined }
    | undefined {
    if (!this.hasColumn(i, 'lockedVm')) return undefined;
    const [lockedVm, breakdown] = this.acctRecord(this.col(i).acct[i & (CHUNK - 1)]!);
    return { lockedVm, breakdown };
  }

  // ---- encoding ----

  private col(i: number): Columns {
    return this.cols[i >>> CHUNK_SHIFT]!;
  }

  private hasColumn(i: number, key: string): boolean {
    const s = this.shapes[this.col(i).shape[i & (CHUNK - 1)]!]!;
    if (s.t !== 'obj') return false;
    const j = s.keys.indexOf(key);
    return j >= 0 && (s.kids[j] as { c?: string }).c === 'c';
  }

  private accounting(lockedVm: unknown, breakdown: unknown): number {
    if (lockedVm === this.lastLocked && breakdown === this.lastBreakdown && this.acctShape.n > 0)
      return this.acctShape.n - 1;
    this.lastLocked = lockedVm;
    this.lastBreakdown = breakdown;
    const off = this.wpos;
    this.begin();
    this.value([lockedVm, breakdown ?? null]);
    this.acctShape.push(this.end());
    this.acctOff.push(off);
    return this.acctShape.n - 1;
  }

  private acctRecord(a: number): [Record<string, number>, Record<string, LockedVmBreakdown>] {
    const hit = this.acctCache.get(a);
    if (hit) return hit;
    this.rpos = this.acctOff.a[a]!;
    const r = this.read(this.shapes[this.acctShape.a[a]!]!) as [
      Record<string, number>,
      Record<string, LockedVmBreakdown>,
    ];
    if (this.acctCache.size >= 256) this.acctCache.delete(this.acctCache.keys().next().value!);
    this.acctCache.set(a, r);
    return r;
  }

  private begin(): void {
    this.node = this.trie;
    this.nt = 0;
  }

  private tok(t: number): void {
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
  private keyTok(key: string): void {
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
    this.internedBytes += 160;
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
  private end(): number {
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
      this.internedBytes += 64 * this.nt;
    }
    return n.shape;
  }

  private keyId(key: string): number {
    let id = this.keyIds.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.keyIds.set(key, id);
      this.internedBytes += 2 * key.length + 48;
    }
    return id;
  }

  private intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
      this.internedBytes += 2 * s.length + 48;
    }
    return id;
  }

  /** writes one value and walks its shape */
  private value(v: unknown): void {
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

  /**
   * A string: its number tokens (decimal, or canonical lowercase hex; not inside a word, not part of a
   * section number such as §4.6.4 or a version such as 4.2) become the holes of an interned template.
   * Scanned by hand and looked up by a hash of the literal text, so nothing is allocated per string.
   */
  private string(s: string): void {
    const n = s.length;
    let count = 0;
    let h = 2166136261;
    let litStart = 0;
    for (let p = 0; p < n;) {
      const ch = s.charCodeAt(p);
      if (ch < 48 || ch > 57 || !tokenMayStart(s, p)) {
        h = Math.imul(h ^ ch, 16777619);
        p++;
        continue;
      }
      // a run of digits, or 0x and hex digits
      let q = p + 1;
      let hex = false;
      if (ch === 48 && s.charCodeAt(p + 1) === 120 && isHexDigit(s.charCodeAt(p + 2))) {
        hex = true;
        q = p + 3;
        while (q < n && isHexDigit(s.charCodeAt(q))) q++;
      } else while (q < n && isDigit(s.charCodeAt(q))) q++;
      const len = q - p;
      let ok = tokenMayEnd(s, q) && count < 64;
      if (ok) {
        if (hex) ok = len === 3 || s.charCodeAt(p + 2) !== 48;
        else ok = len <= 15 && (len === 1 || ch !== 48);
      }
      if (!ok) {
        for (let j = p; j < q; j++) h = Math.imul(h ^ s.charCodeAt(j), 16777619);
        p = q;
        continue;
      }
      let kind: Tok;
      if (!hex) {
        kind = Tok.Dec;
        let v = 0;
        for (let j = p; j < q; j++) v = v * 10 + (s.charCodeAt(j) - 48);
        this.tplVals[count] = v;
      } else if (len - 2 <= 13) {
        kind = Tok.Hex;
        let v = 0;
        for (let j = p + 2; j < q; j++) {
          const d = s.charCodeAt(j);
          v = v * 16 + (d <= 57 ? d - 48 : d - 87);
        }
        this.tplVals[count] = v;
      } else {
        kind = Tok.BigHex;
        this.tplBigs.push(BigInt(s.slice(p, q)));
      }
      h = Math.imul(h ^ (0x10000 + kind), 16777619);
      this.tplKinds[count] = kind;
      this.tplStarts[count] = litStart;
      this.tplEnds[count] = p;
      litStart = q;
      count++;
      p = q;
    }
    if (count === 0) {
      this.tplBigs.length = 0;
      this.tok(L_STR);
      this.varint(this.intern(s));
      return;
    }
    this.tplStarts[count] = litStart;
    this.tplEnds[count] = n;
    this.tok(L_TPL);
    this.varint(this.template(s, count, h >>> 0));
    let b = 0;
    for (let j = 0; j < count; j++) {
      if (this.tplKinds[j] === Tok.BigHex) this.bigvarint(this.tplBigs[b++]!);
      else this.varint(this.tplVals[j]!);
    }
    this.tplBigs.length = 0;
  }

  /** the template of the string just scanned (found by its hash and checked part by part) */
  private template(s: string, count: number, hash: number): number {
    const cands = this.templatesByHash.get(hash);
    if (cands) {
      for (const id of cands) {
        const t = this.templates[id]!;
        if (t.toks.length !== count) continue;
        let same = true;
        for (let j = 0; j <= count && same; j++) {
          const part = t.parts[j]!;
          const a = this.tplStarts[j]!;
          same =
            this.tplEnds[j]! - a === part.length &&
            s.startsWith(part, a) &&
            (j === count || t.toks[j] === this.tplKinds[j]);
        }
        if (same) return id;
      }
    }
    const parts: string[] = [];
    const toks: Tok[] = [];
    for (let j = 0; j <= count; j++) {
      parts.push(s.slice(this.tplStarts[j], this.tplEnds[j]));
      if (j < count) toks.push(this.tplKinds[j] as Tok);
    }
    const id = this.templates.length;
    this.templates.push({ parts, toks });
    if (cands) cands.push(id);
    else this.templatesByHash.set(hash, [id]);
    this.internedBytes += 2 * s.length + 64 * (count + 1) + 96;
    return id;
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

  // ---- decoding ----

  private decode(i: number, only: Set<string> | null): Record<string, unknown> {
    const c = this.col(i);
    const k = i & (CHUNK - 1);
    const s = this.shapes[c.shape[k]!]! as Extract<Node, { t: 'obj' }>;
    this.rpos = c.off[k]!;
    const out: Record<string, unknown> = {};
    let acct: [Record<string, number>, Record<string, LockedVmBreakdown>] | undefined;
    for (let j = 0; j < s.keys.length; j++) {
      const key = s.keys[j]!;
      const node = s.kids[j]!;
      const want = only === null || only.has(key);
      if (node.t === 'leaf' && node.c === 'c') {
        if (!want) continue;
        switch (key) {
          case 'seq':
            out.seq = c.seq[k];
            break;
          case 'kind':
            out.kind = KINDS[c.kind[k]!];
            break;
          case 'pid':
            out.pid = c.pid[k];
            break;
          case 'op':
            out.op = this.strings[c.op[k]!];
            break;
          case 'ret':
            out.ret = c.ret[k];
            break;
          case 'line':
            out.line = c.line[k];
            break;
          case 'lockedVm':
            out.lockedVm = (acct ??= this.acctRecordKeep(c.acct[k]!))[0];
            break;
          case 'breakdown':
            out.breakdown = (acct ??= this.acctRecordKeep(c.acct[k]!))[1];
            break;
        }
      } else if (want) out[key] = this.read(node);
      else this.skip(node);
    }
    return out;
  }

  /** acctRecord without losing the read position of the event being decoded */
  private acctRecordKeep(a: number): [Record<string, number>, Record<string, LockedVmBreakdown>] {
    const pos = this.rpos;
    const r = this.acctRecord(a);
    this.rpos = pos;
    return r;
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

  private read(node: Node): unknown {
    if (node.t === 'obj') {
      const o: Record<string, unknown> = {};
      for (let j = 0; j < node.keys.length; j++) o[node.keys[j]!] = this.read(node.kids[j]!);
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
        const t = this.templates[this.rvarint()]!;
        let s = t.parts[0]!;
        for (let j = 0; j < t.toks.length; j++) {
          const tok = t.toks[j]!;
          if (tok === Tok.BigHex) s += '0x' + this.rbigvarint().toString(16);
          else {
            const v = this.rvarint();
            s += tok === Tok.Hex ? '0x' + v.toString(16) : String(v);
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

  private skip(node: Node): void {
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
        const t = this.templates[this.rvarint()]!;
        for (const tok of t.toks) {
          if (tok === Tok.BigHex) this.rbigvarint();
          else this.rvarint();
        }
        return;
      }
    }
  }
}

const FOLD_KEYS = new Set(['seq', 'kind', 'lockedVm', 'breakdown', 'deltas']);

function isPlainOrAbsent(v: unknown): boolean {
  return v === undefined || (v !== null && typeof v === 'object' && isPlain(v));
}

function clampIndex(i: number, n: number): number {
  if (i < 0) return Math.max(0, n + i);
  return Math.min(i, n);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102);
const isWord = (c: number): boolean =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** a number token may start at p: not inside a word, after §, or after "<digit>." (4.6.4, 4.2) */
function tokenMayStart(s: string, p: number): boolean {
  if (p === 0) return true;
  const b = s.charCodeAt(p - 1);
  if (isWord(b) || b === 0xa7 /* § */) return false;
  return !(b === 46 && p >= 2 && isDigit(s.charCodeAt(p - 2)));
}

/** and may end before q: not followed by a word character or by ".<digit>" */
function tokenMayEnd(s: string, q: number): boolean {
  if (q >= s.length) return true;
  const c = s.charCodeAt(q);
  if (isWord(c)) return false;
  return !(c === 46 && isDigit(s.charCodeAt(q + 1)));
}
