/**
 * The event log's rows by column: what the renderer keeps of every streamed event when it does not keep
 * the event itself. Each row costs 18 bytes (seq, line and pid as 32-bit numbers, op and errno as 16-bit
 * codes into interned string tables, kind and flags as one byte each), stored in fixed chunks so that
 * growing never copies the columns and never holds twice their size. The full `EventRow` of an index is
 * fetched on demand with inspect.rows (see rowPages.ts).
 *
 * Enough is kept to filter by op, errno, pid and "problems only", to find the line of an event (event →
 * line reveal) and the events of a line, and to find the last call that wrote TCEs, without a full row.
 */
import type { EventRow } from '../../../common/contract';

/** rows a chunk holds (a power of two: index → chunk is a shift) */
const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

export const KINDS: readonly EventRow['kind'][] = ['ioctl', 'action', 'hcall', 'syscall', 'expect', 'log'];

/** flag bits */
export const FAILED = 1;
/** an H_PUT_TCE* hcall answered by KVM ("[KVM " in its result; kernel-model.md §13.8) */
export const KVM_ANSWERED = 2;

const NONE = -1;

interface Chunk {
  seq: Int32Array;
  line: Int32Array;
  pid: Int32Array;
  op: Uint16Array;
  errno: Uint16Array;
  kind: Uint8Array;
  flags: Uint8Array;
}

function chunk(): Chunk {
  return {
    seq: new Int32Array(CHUNK),
    line: new Int32Array(CHUNK),
    pid: new Int32Array(CHUNK),
    op: new Uint16Array(CHUNK),
    errno: new Uint16Array(CHUNK),
    kind: new Uint8Array(CHUNK),
    flags: new Uint8Array(CHUNK),
  };
}

/** bytes of one row in the columns */
export const BYTES_PER_ROW = 4 + 4 + 4 + 2 + 2 + 1 + 1;

class Interner {
  readonly list: string[] = [''];
  private readonly codes = new Map<string, number>([['', 0]]);
  code(s: string): number {
    let c = this.codes.get(s);
    if (c === undefined) {
      c = this.list.length;
      if (c > 0xffff) throw new Error(`more than 65,535 distinct values in one column of the event log`);
      this.list.push(s);
      this.codes.set(s, c);
    }
    return c;
  }
  find(s: string): number | undefined {
    return this.codes.get(s);
  }
}

export interface ColumnFilters {
  op: string;
  errno: string;
  pid: number | null;
  problemsOnly: boolean;
}

export class RowColumns {
  private chunks: Chunk[] = [];
  private n = 0;
  private readonly ops = new Interner();
  private readonly errnos = new Interner();

  get length(): number {
    return this.n;
  }

  /** bytes the columns hold (allocated chunks, not counting the small string tables) */
  get bytes(): number {
    return this.chunks.length * CHUNK * BYTES_PER_ROW;
  }

  push(r: EventRow): void {
    const i = this.n;
    if ((i & MASK) === 0 && i >> SHIFT === this.chunks.length) this.chunks.push(chunk());
    const c = this.chunks[i >> SHIFT]!;
    const j = i & MASK;
    const kind = KINDS.indexOf(r.kind);
    if (kind < 0) throw new Error(`event ${r.seq}: unknown kind ${String(r.kind)}`);
    c.seq[j] = r.seq;
    c.line[j] = r.line ?? NONE;
    c.pid[j] = r.pid ?? NONE;
    c.op[j] = this.ops.code(r.op);
    c.errno[j] = this.errnos.code(r.errno ?? '');
    c.kind[j] = kind;
    c.flags[j] =
      (r.failed ? FAILED : 0) |
      (r.kind === 'hcall' && r.op.startsWith('H_PUT_TCE') && /\[KVM /.test(r.result) ? KVM_ANSWERED : 0);
    this.n = i + 1;
  }

  private at(i: number): [Chunk, number] {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`no row ${i} (${this.n} rows)`);
    return [this.chunks[i >> SHIFT]!, i & MASK];
  }

  seq(i: number): number {
    const [c, j] = this.at(i);
    return c.seq[j]!;
  }
  line(i: number): number | undefined {
    const [c, j] = this.at(i);
    const l = c.line[j]!;
    return l === NONE ? undefined : l;
  }
  pid(i: number): number | undefined {
    const [c, j] = this.at(i);
    const p = c.pid[j]!;
    return p === NONE ? undefined : p;
  }
  op(i: number): string {
    const [c, j] = this.at(i);
    return this.ops.list[c.op[j]!]!;
  }
  errno(i: number): string | undefined {
    const [c, j] = this.at(i);
    return this.errnos.list[c.errno[j]!] || undefined;
  }
  kind(i: number): EventRow['kind'] {
    const [c, j] = this.at(i);
    return KINDS[c.kind[j]!]!;
  }
  flags(i: number): number {
    const [c, j] = this.at(i);
    return c.flags[j]!;
  }
  failed(i: number): boolean {
    return (this.flags(i) & FAILED) !== 0;
  }

  /** every op seen, sorted */
  opList(): string[] {
    return this.ops.list.slice(1).sort();
  }
  /** every errno seen, sorted */
  errnoList(): string[] {
    return this.errnos.list.slice(1).sort();
  }

  /** index of the row with this seq (rows are contiguous from seq 1, but this does not rely on it) */
  indexOf(seq: number): number | undefined {
    const n = this.n;
    if (seq - 1 >= 0 && seq - 1 < n && this.seq(seq - 1) === seq) return seq - 1;
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.seq(mid);
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * A test of a row against the filters the columns can answer (op, errno, pid, problems only), built once
   * per filter change; `null` when an op or errno was never seen (nothing can match).
   */
  matcher(f: ColumnFilters): ((i: number) => boolean) | null {
    const op = f.op ? this.ops.find(f.op) : 0;
    const errno = f.errno ? this.errnos.find(f.errno) : 0;
    if (op === undefined || errno === undefined) return null;
    const pid = f.pid;
    const problems = f.problemsOnly;
    return (i) => {
      const c = this.chunks[i >> SHIFT]!;
      const j = i & MASK;
      if (op && c.op[j] !== op) return false;
      if (errno && c.errno[j] !== errno) return false;
      if (pid !== null && c.pid[j] !== pid) return false;
      if (problems && !(c.flags[j]! & FAILED)) return false;
      return true;
    };
  }

  /** indices of the rows of a scenario line, in order */
  indicesOfLine(line: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.chunks.length; k++) {
      const col = this.chunks[k]!.line;
      const end = Math.min(CHUNK, this.n - k * CHUNK);
      for (let j = 0; j < end; j++) if (col[j] === line) out.push(k * CHUNK + j);
    }
    return out;
  }
}
