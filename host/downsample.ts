/**
 * A locked_vm series thinned for drawing (issue 8: a million-call run's graph): the seqs are cut into
 * `buckets` equal ranges and each keeps at most its first, lowest, highest and last point, so the drawn
 * envelope is the same at any zoom the bucket count allows, plus every point of a refused call, so no
 * refusal disappears. Points arrive in seq order and leave in seq order; nothing is held but one bucket.
 */
import type { LockedVmSeries } from '../common/contract.ts';

export interface SeriesPoint {
  seq: number;
  total: number;
  limit: number;
  /** contributor → pages (undefined: all 0) */
  b: Readonly<Record<string, number>> | undefined;
  failed: boolean;
}

export class Downsampler {
  private readonly width: number;
  private bucket = -1;
  private held: SeriesPoint[] = [];
  private first: SeriesPoint | null = null;
  private low: SeriesPoint | null = null;
  private high: SeriesPoint | null = null;
  private last: SeriesPoint | null = null;
  /** points offered */
  points = 0;

  /** `maxSeq`: the largest seq a point can have; `emit`: called with the kept points, in seq order */
  constructor(
    maxSeq: number,
    readonly buckets: number,
    private readonly emit: (p: SeriesPoint) => void,
  ) {
    this.width = Math.max(1, Math.ceil(maxSeq / buckets));
  }

  add(p: SeriesPoint): void {
    this.points++;
    const b = Math.floor(Math.max(0, p.seq - 1) / this.width);
    if (b !== this.bucket) {
      this.flush();
      this.bucket = b;
    }
    if (!this.first) this.first = p;
    if (!this.low || p.total < this.low.total) this.low = p;
    if (!this.high || p.total > this.high.total) this.high = p;
    this.last = p;
    if (p.failed) this.held.push(p);
  }

  /** emits what the current bucket kept; call once after the last point */
  flush(): void {
    const keep = new Set<SeriesPoint>(this.held);
    for (const p of [this.first, this.low, this.high, this.last]) if (p) keep.add(p);
    for (const p of [...keep].sort((a, c) => a.seq - c.seq)) this.emit(p);
    this.held = [];
    this.first = this.low = this.high = this.last = null;
  }
}

/** the series' arrays, appended to point by point */
export function pushPoint(out: LockedVmSeries, contributors: readonly string[], p: SeriesPoint): void {
  out.seq.push(p.seq);
  out.total.push(p.total);
  out.limit.push(p.limit);
  for (const c of contributors) out.stacks[c]!.push(p.b ? p.b[c]! : 0);
}
