/**
 * Engine infrastructure: models no kernel file.
 * The contents of a TCE window as maximal linear runs (valid TCEs [start, start+count) holding value +
 * i*step), the normal form every state of a run uses: applying one event's write or clear, reading a live
 * table, and the inspector's queries over them (pages of entries, valid-only paging, occupancy, find).
 */
import type { TceRun } from './events.ts';
import type { WindowState } from './state.ts';
import { CHUNK_SIZE, type TceTable } from './tce-table.ts';

/** valid TCEs [start, start+count) holding value + i*step and ua + i*step (ua 0n: none, v1) */
export interface Run {
  start: number;
  count: number;
  value: bigint;
  ua: bigint;
  step: number;
}

/** merges adjacent runs that continue each other linearly (the normal form of a window's contents) */
export function normalizeRuns(runs: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of runs) {
    if (r.count <= 0) continue;
    const last = out[out.length - 1];
    if (last && joins(last, r)) out[out.length - 1] = { ...last, count: last.count + r.count };
    else out.push({ ...r });
  }
  return out;
}

/** two runs that continue each other linearly can be one */
function joins(a: Run, b: Run): boolean {
  return (
    a.start + a.count === b.start &&
    a.step === b.step &&
    a.value + BigInt(a.count * a.step) === b.value &&
    ((a.ua === 0n && b.ua === 0n) || (a.ua !== 0n && a.ua + BigInt(a.count * a.step) === b.ua))
  );
}

/** index of the first run ending after `index` (binary search over sorted, disjoint runs) */
function firstEndingAfter(runs: Run[], index: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (r.start + r.count <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Applies one event's TCE run (a write or a clear) to a window's runs, in place: the runs overlapping
 * the range are replaced by their uncovered remainders and the new run, and only the neighbours of the
 * change are merged. Run objects themselves are never mutated, so a shallow copy of the array is a
 * snapshot (Timeline checkpoints rely on that). O(log R) plus one splice.
 */
export function applyRun(
  runs: Run[],
  t: Pick<TceRun, 'start' | 'count' | 'step'> & { value: number | bigint; ua: number | bigint },
): Run[] {
  const start = t.start;
  const end = t.start + t.count;
  const i = firstEndingAfter(runs, start);
  let j = i;
  while (j < runs.length && runs[j]!.start < end) j++;
  const pieces: Run[] = [];
  const first = runs[i];
  if (first && i < j && first.start < start) pieces.push({ ...first, count: start - first.start });
  if (t.value) pieces.push({ start, count: t.count, value: BigInt(t.value), ua: BigInt(t.ua), step: t.step });
  const last = runs[j - 1];
  if (last && i < j && last.start + last.count > end) {
    const skip = end - last.start;
    pieces.push({
      start: end,
      count: last.start + last.count - end,
      step: last.step,
      value: last.value + BigInt(skip * last.step),
      ua: last.ua === 0n ? 0n : last.ua + BigInt(skip * last.step),
    });
  }
  runs.splice(i, j - i, ...pieces);
  // merge across the edges of what changed
  let k = Math.max(0, i - 1);
  let stop = i + pieces.length; // the run just after the new pieces
  while (k < stop && k + 1 < runs.length) {
    const a = runs[k]!;
    const b = runs[k + 1]!;
    if (joins(a, b)) {
      runs.splice(k, 2, { ...a, count: a.count + b.count });
      stop--;
    } else k++;
  }
  return runs;
}

/** the runs of a live table, scanning only allocated chunks */
export function runsOfTable(t: TceTable): Run[] {
  const runs: Run[] = [];
  const ps = t.pageSize;
  let cur: { start: number; count: number; value: number; ua: number } | null = null;
  const flush = (): void => {
    if (cur)
      runs.push({
        start: cur.start,
        count: cur.count,
        value: BigInt(cur.value),
        ua: BigInt(cur.ua),
        step: ps,
      });
    cur = null;
  };
  for (const [base, chunk] of t.allocatedChunks()) {
    if (chunk.valid === 0) continue;
    const tce = chunk.tce;
    const uas = chunk.ua;
    for (let o = 0; o < CHUNK_SIZE; o++) {
      const v = tce[o]!;
      if (v === 0) {
        flush();
        continue;
      }
      const idx = base + o;
      const u = uas[o]!;
      const c = cur as { start: number; count: number; value: number; ua: number } | null;
      if (
        c &&
        c.start + c.count === idx &&
        c.value + c.count * ps === v &&
        ((c.ua === 0 && u === 0) || (c.ua !== 0 && c.ua + c.count * ps === u))
      ) {
        c.count++;
      } else {
        flush();
        cur = { start: idx, count: 1, value: v, ua: u };
      }
    }
    // runs continue across chunk boundaries only when the next chunk starts where this one ended
  }
  flush();
  return normalizeRuns(runs);
}

export interface Entry {
  index: number;
  iova: bigint;
  value: bigint;
  hpa: bigint;
  perm: number;
  ua: bigint;
}

function runAt(runs: Run[], index: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (index < r.start) hi = mid - 1;
    else if (index >= r.start + r.count) lo = mid + 1;
    else return mid;
  }
  return -1 - lo; // insertion point encoded
}

function entryOf(w: WindowState, index: number, r: Run | undefined): Entry {
  const iova = w.startAddr + (BigInt(index) << BigInt(w.pageShift));
  if (!r) return { index, iova, value: 0n, hpa: 0n, perm: 0, ua: 0n };
  const k = BigInt((index - r.start) * r.step);
  const value = r.value + k;
  return {
    index,
    iova,
    value,
    hpa: value & ~0xfffn,
    perm: Number(value & 3n),
    ua: r.ua === 0n ? 0n : r.ua + k,
  };
}

/** entries [from, from+count) of a window (empty ones included) */
export function entries(w: WindowState, from: number, count: number): Entry[] {
  const out: Entry[] = [];
  const end = Math.min(w.entries, from + count);
  const i = runAt(w.runs, from);
  let ri = i >= 0 ? i : -1 - i;
  for (let idx = Math.max(0, from); idx < end; idx++) {
    while (ri < w.runs.length && w.runs[ri]!.start + w.runs[ri]!.count <= idx) ri++;
    const r = w.runs[ri];
    out.push(entryOf(w, idx, r && r.start <= idx ? r : undefined));
  }
  return out;
}

/** the n-th valid entry and the following ones (valid-only view), with the total number of valid entries */
export function validEntries(w: WindowState, nth: number, count: number): { total: number; rows: Entry[] } {
  let total = 0;
  for (const r of w.runs) total += r.count;
  const rows: Entry[] = [];
  let skip = nth;
  for (const r of w.runs) {
    if (rows.length >= count) break;
    if (skip >= r.count) {
      skip -= r.count;
      continue;
    }
    for (let i = skip; i < r.count && rows.length < count; i++) rows.push(entryOf(w, r.start + i, r));
    skip = 0;
  }
  return { total, rows };
}

/** fraction of valid entries in each of `buckets` equal slices of the window */
export function occupancy(w: WindowState, buckets: number): number[] {
  const out = new Array<number>(buckets).fill(0);
  const per = w.entries / buckets;
  for (const r of w.runs) {
    let s = r.start;
    const e = r.start + r.count;
    while (s < e) {
      const b = Math.min(buckets - 1, Math.floor(s / per));
      const bEnd = Math.min(e, Math.ceil((b + 1) * per));
      const n = Math.max(1, bEnd - s);
      out[b]! += n;
      s += n;
    }
  }
  return out.map((n, b) => n / Math.max(1, Math.ceil((b + 1) * per) - Math.ceil(b * per)));
}

/** slot index of an IOVA, or of the first entry whose userspace address page contains ua; -1 if none */
export function findEntry(w: WindowState, q: { iova?: bigint; ua?: bigint }): number {
  if (q.iova !== undefined) {
    const rel = q.iova - w.startAddr;
    if (rel < 0n || rel >= w.size) return -1;
    return Number(rel >> BigInt(w.pageShift));
  }
  if (q.ua !== undefined) {
    for (const r of w.runs) {
      if (r.ua === 0n) continue;
      const end = r.ua + BigInt(r.count * r.step);
      if (q.ua >= r.ua && q.ua < end) return r.start + Number((q.ua - r.ua) / BigInt(r.step));
    }
  }
  return -1;
}

/**
 * Position of slot `index` in the valid-only list of a window (the entries of its runs, in slot order),
 * or -1 if that entry is empty. O(runs): a binary search for the run, then the sizes of the runs before it.
 */
export function validIndexOf(w: WindowState, index: number): number {
  if (index < 0) return -1;
  const i = runAt(w.runs, index);
  if (i < 0) return -1;
  let before = 0;
  for (let k = 0; k < i; k++) before += w.runs[k]!.count;
  return before + (index - w.runs[i]!.start);
}
