/**
 * Engine infrastructure: models no kernel file.
 * The event log of a run stored by column (issue 8: runs of a million ioctls). An event object costs about
 * 1.4 KB of heap (its explanation string alone a few hundred bytes); here it costs well under 200 bytes:
 *
 *   - typed-array columns, in chunks of 65,536 events: seq, kind, pid, op (interned), ret, line and the
 *     locked_vm record (an index: consecutive events that share their lockedVm/breakdown objects, as the
 *     recorder hands them out while nothing was charged, share one record);
 *   - everything else of the event (fd, args, out, errno, explain, deltas, expectation texts, …) encoded
 *     into a byte pool as a *shape* plus its values as variable-length integers (event-codec.ts), strings
 *     with numbers in them as an interned template and its numbers (string-templates.ts).
 *
 * at(i) materialises an event object equal to the one pushed (same keys in the same order, bigints as
 * bigints, -0, NaN and very large bigints included); the columns answer the common questions (kind, pid,
 * ret, locked_vm) without materialising anything. Nothing here is specific to one event kind, so kinds
 * added later (hcall, syscall, …) are stored like the rest.
 */
import type { EventList, LockedVmBreakdown, RunEvent } from './events.ts';
import {
  CLOSE_OBJ,
  isPlain,
  L_COL,
  OPEN_OBJ,
  POOL_CHUNK,
  POOL_MAX,
  ValueCodec,
  type Node,
} from './event-codec.ts';

const CHUNK_SHIFT = 16;
const CHUNK = 1 << CHUNK_SHIFT;

const KINDS = ['ioctl', 'action', 'expect', 'log', 'hcall', 'syscall'] as const;
const KIND_CODE: Record<string, number> = { ioctl: 0, action: 1, expect: 2, log: 3, hcall: 4, syscall: 5 };

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
  /** everything else of the events, and the locked_vm records (event-codec.ts) */
  private readonly codec = new ValueCodec();
  // -- locked_vm records --
  private readonly acctShape = new U32List();
  private readonly acctOff = new U32List();
  private lastLocked: unknown = null;
  private lastBreakdown: unknown = null;
  private readonly acctCache = new Map<number, [Record<string, number>, Record<string, LockedVmBreakdown>]>();
  /** indexes of events whose deltas announce hosts or processes (what limits and page sizes follow) */
  private readonly processEvents = new U32List();

  get length(): number {
    return this.n;
  }

  /**
   * Bytes this store holds: its typed arrays (allocated, not only used) plus an estimate of the interned
   * strings, templates and shapes (two bytes a character and an object header each). Host memory budgets
   * (issue 12) apply to this figure.
   */
  byteSize(): number {
    let b = this.cols.length * CHUNK * COLUMN_BYTES + this.codec.pool.length * POOL_CHUNK;
    b += this.acctShape.a.byteLength + this.acctOff.a.byteLength + this.processEvents.a.byteLength;
    return b + this.codec.internedBytes;
  }

  /** appends one event (the object is not kept) */
  push(e: RunEvent): void {
    const i = this.n;
    const ci = i >>> CHUNK_SHIFT;
    const k = i & (CHUNK - 1);
    if (ci === this.cols.length) this.cols.push(columns());
    const c = this.cols[ci]!;
    if (this.codec.wpos > POOL_MAX - 65536)
      throw new RangeError('the event log is larger than 4 GiB; the run is too large to record');
    const rec = e as unknown as Record<string, unknown>;
    // the locked_vm record first: it may write to the pool, before this event's own bytes start
    const lv = rec.lockedVm;
    const acctable = lv !== null && typeof lv === 'object' && isPlain(lv) && isPlainOrAbsent(rec.breakdown);
    if (acctable) c.acct[k] = this.accounting(lv, rec.breakdown);
    const off = this.codec.wpos;
    this.codec.begin();
    this.codec.tok(OPEN_OBJ);
    for (const key in rec) {
      const v = rec[key];
      this.codec.keyTok(key);
      if (key === 'seq' && typeof v === 'number' && v >= 0 && v <= POOL_MAX && Number.isInteger(v)) {
        c.seq[k] = v;
        this.codec.tok(L_COL);
      } else if (key === 'kind' && typeof v === 'string' && v in KIND_CODE) {
        c.kind[k] = KIND_CODE[v]!;
        this.codec.tok(L_COL);
      } else if (key === 'pid' && isInt32(v)) {
        c.pid[k] = v;
        this.codec.tok(L_COL);
      } else if (key === 'op' && typeof v === 'string') {
        c.op[k] = this.codec.intern(v);
        this.codec.tok(L_COL);
      } else if (key === 'ret' && isInt32(v)) {
        c.ret[k] = v;
        this.codec.tok(L_COL);
      } else if (key === 'line' && isInt32(v)) {
        c.line[k] = v;
        this.codec.tok(L_COL);
      } else if (key === 'lockedVm' && acctable) {
        this.codec.tok(L_COL);
      } else if (key === 'breakdown' && acctable && v !== undefined) {
        this.codec.tok(L_COL);
      } else {
        this.codec.value(v);
      }
    }
    this.codec.tok(CLOSE_OBJ);
    c.shape[k] = this.codec.end();
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
    const s = this.codec.shapes[this.col(i).shape[i & (CHUNK - 1)]!]!;
    if (s.t !== 'obj') return false;
    const j = s.keys.indexOf(key);
    return j >= 0 && (s.kids[j] as { c?: string }).c === 'c';
  }

  private accounting(lockedVm: unknown, breakdown: unknown): number {
    if (lockedVm === this.lastLocked && breakdown === this.lastBreakdown && this.acctShape.n > 0)
      return this.acctShape.n - 1;
    this.lastLocked = lockedVm;
    this.lastBreakdown = breakdown;
    const off = this.codec.wpos;
    this.codec.begin();
    this.codec.value([lockedVm, breakdown ?? null]);
    this.acctShape.push(this.codec.end());
    this.acctOff.push(off);
    return this.acctShape.n - 1;
  }

  private acctRecord(a: number): [Record<string, number>, Record<string, LockedVmBreakdown>] {
    const hit = this.acctCache.get(a);
    if (hit) return hit;
    this.codec.rpos = this.acctOff.a[a]!;
    const r = this.codec.read(this.codec.shapes[this.acctShape.a[a]!]!) as [
      Record<string, number>,
      Record<string, LockedVmBreakdown>,
    ];
    if (this.acctCache.size >= 256) this.acctCache.delete(this.acctCache.keys().next().value!);
    this.acctCache.set(a, r);
    return r;
  }

  // ---- decoding ----

  private decode(i: number, only: Set<string> | null): Record<string, unknown> {
    const c = this.col(i);
    const k = i & (CHUNK - 1);
    const s = this.codec.shapes[c.shape[k]!]! as Extract<Node, { t: 'obj' }>;
    this.codec.rpos = c.off[k]!;
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
            out.op = this.codec.strings[c.op[k]!];
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
      } else if (want) out[key] = this.codec.read(node);
      else this.codec.skip(node);
    }
    return out;
  }

  /** acctRecord without losing the read position of the event being decoded */
  private acctRecordKeep(a: number): [Record<string, number>, Record<string, LockedVmBreakdown>] {
    const pos = this.codec.rpos;
    const r = this.acctRecord(a);
    this.codec.rpos = pos;
    return r;
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
