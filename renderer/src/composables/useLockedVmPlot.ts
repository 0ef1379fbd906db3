/**
 * The data side of the locked_vm graph (LockedVmGraph.vue is layout only): from one process's
 * LockedVmSeries (common/contract.ts) it builds the stacked series, the refused charges to draw as bars
 * from locked_vm to locked_vm + the charge across the RLIMIT_MEMLOCK line (issue 10 item 4), the y scale
 * (linear, or a log-like asinh scale so a 1-page limit stands apart from zero next to a 131,072-page
 * request), integer ticks (pages are whole), the limit's label in pages and KiB, and the zoom (drag on x
 * and y, reset). Plain functions plus one composable holding the view state; no DOM, no uPlot instance.
 */
import { computed, ref, type Ref } from 'vue';
import type { LockedVmSeries } from '../../../common/contract';
import { CONTRIBUTOR_KEYS } from '../../../common/contributors';
import { shortCount } from './format';

/** a refused charge as drawn: a bar at `seq` from `from` (locked_vm before) to `to` (+ the charge) */
export interface PlotRefusal {
  seq: number;
  from: number;
  to: number;
  charge: number;
  /** the limit the check used, pages */
  limit: number;
}

export type Range = [number, number];
export interface Zoom {
  x: Range | null;
  y: Range | null;
}

/** contributors present in the series, bottom of the stack first (common/contributors.ts order) */
export function stackKeys(s: LockedVmSeries): string[] {
  const order = CONTRIBUTOR_KEYS as readonly string[];
  const rank = (k: string) => (order.indexOf(k) + 1 || 99) - 1;
  return Object.keys(s.stacks)
    .filter((k) => s.stacks[k]!.some((v) => v > 0))
    .sort((a, b) => rank(a) - rank(b));
}

/** failed calls and expectations that are not refused charges (those are drawn as bars) */
export function otherFailures(s: LockedVmSeries): number[] {
  const refused = new Set((s.refusals ?? []).map((r) => r.seq));
  return s.failed.filter((q) => !refused.has(q));
}

/** the refused charges of the series (empty for a series that carries none, e.g. the live one) */
export function refusalsOf(s: LockedVmSeries): PlotRefusal[] {
  return (s.refusals ?? []).map((r) => ({
    seq: r.seq,
    from: r.lockedVm,
    to: r.lockedVm + r.charge,
    charge: r.charge,
    limit: r.limit,
  }));
}

/**
 * uPlot's aligned data: x (seq), the cumulative stacks topmost first (each lower band paints over the
 * one above it), the limit, and the failed calls that are not refused charges (those are bars) as points.
 */
export function plotData(s: LockedVmSeries, keys: string[]): (number | null)[][] {
  const x = [...s.seq];
  const cum: number[][] = [];
  let acc = new Array<number>(x.length).fill(0);
  for (const k of keys) {
    const col = s.stacks[k]!;
    acc = acc.map((v, i) => v + (col[i] ?? 0));
    cum.push(acc);
  }
  const failed = new Set(otherFailures(s));
  const failedY = s.seq.map((q, i) => (failed.has(q) ? s.total[i]! : null));
  return [x, ...[...cum].reverse(), [...s.limit], failedY];
}

export function peakOf(s: LockedVmSeries): number {
  return Math.max(0, ...s.total);
}
export function maxLimitOf(s: LockedVmSeries): number {
  return Math.max(0, ...s.limit);
}
/** the highest point drawn: the peak, or the top of a refused charge */
export function topOf(s: LockedVmSeries, refusals: PlotRefusal[]): number {
  return Math.max(peakOf(s), ...refusals.map((r) => r.to));
}

/**
 * Whether the limit line is drawn to scale: a limit far above everything drawn (unlimited, CAP_IPC_LOCK)
 * would flatten the data, so it is listed instead. A log scale has room for three more decades.
 */
export function limitOnScale(s: LockedVmSeries, refusals: PlotRefusal[], log: boolean): boolean {
  const lim = maxLimitOf(s);
  const top = topOf(s, refusals);
  if (lim <= 0) return false;
  if (top === 0) return lim < 1e9;
  return lim <= top * (log ? 4000 : 4);
}

/** the limit in force at `seq` (the last point at or before it; the first point before the series starts) */
export function limitAt(s: LockedVmSeries, seq: number): number {
  let v = s.limit[0] ?? 0;
  for (let i = 0; i < s.seq.length && s.seq[i]! <= seq; i++) v = s.limit[i]!;
  return v;
}

/** the automatic y range: zero to a little above everything drawn */
export function autoY(s: LockedVmSeries, refusals: PlotRefusal[], onScale: boolean): Range {
  return [0, Math.max(topOf(s, refusals), onScale ? maxLimitOf(s) : 0, 1) * 1.08];
}

/** the automatic x range: the series' first to last seq (a single point gets one seq either side) */
export function autoX(s: LockedVmSeries): Range {
  const a = s.seq[0] ?? 0;
  const b = s.seq[s.seq.length - 1] ?? 1;
  return a === b ? [a - 1, b + 1] : [a, b];
}

/** tick steps for a linear axis of pages or seqs: whole numbers only */
export const INTEGER_INCRS: number[] = (() => {
  const out: number[] = [];
  for (let m = 1; m <= 1e15; m *= 10) out.push(m, 2 * m, 5 * m);
  return out;
})();

/** a tick's label: whole numbers only (a fractional tick, if one ever comes, is left blank) */
export function tickLabel(v: number): string {
  if (!Number.isFinite(v) || !Number.isInteger(v) || v < 0) return '';
  if (v >= 1e6 && v % 1e6 === 0) return `${v / 1e6}M`;
  if (v >= 1e4 && v % 1e3 === 0) return `${v / 1e3}k`;
  return shortCount(v);
}

/** the asinh scale's split points within [min, max]: 0 and the powers of ten (all whole) */
export function logSplits(min: number, max: number): number[] {
  const out: number[] = [];
  if (min <= 0 && max >= 0) out.push(0);
  for (let p = 1; p <= max; p *= 10) if (p >= min) out.push(p);
  return out;
}

const kibOf = (pages: number, pageSize: number): string =>
  `${((BigInt(pages) * BigInt(pageSize)) / 1024n).toLocaleString('en-US')} KiB`;

/** "RLIMIT_MEMLOCK 1 page = 64 KiB" */
export function limitLabel(pages: number, pageSize: number): string {
  return `RLIMIT_MEMLOCK ${pages.toLocaleString('en-US')} page${pages === 1 ? '' : 's'} = ${kibOf(pages, pageSize)}`;
}

/** "refused: locked_vm 0 + 65,536 pages (4,194,304 KiB) > limit 1 page (64 KiB)" */
export function refusalLabel(r: PlotRefusal, pageSize: number): string {
  return `seq ${r.seq} refused: locked_vm ${r.from.toLocaleString('en-US')} + ${r.charge.toLocaleString('en-US')} pages (${kibOf(r.charge, pageSize)}) = ${r.to.toLocaleString('en-US')} > limit ${r.limit.toLocaleString('en-US')} page${r.limit === 1 ? '' : 's'} (${kibOf(r.limit, pageSize)})`;
}

/**
 * A drag's selection as a zoom: x (and y, for a box) in data values, ordered; a selection narrower than
 * `minPx` or spanning the whole plot on an axis leaves that axis as it is (a click, a one-axis drag).
 */
export function zoomFromSelect(
  sel: { left: number; top: number; width: number; height: number },
  posToVal: (px: number, axis: 'x' | 'y') => number,
  current: Zoom,
  /** the plotting area, CSS px: a selection spanning all of an axis (a one-axis drag) leaves it alone */
  area: { width: number; height: number },
  minPx = 4,
): Zoom | null {
  const onX = sel.width >= minPx && sel.width < area.width - 1;
  const onY = sel.height >= minPx && sel.height < area.height - 1;
  if (!onX && !onY) return null;
  const x: Range | null = onX
    ? ordered(posToVal(sel.left, 'x'), posToVal(sel.left + sel.width, 'x'))
    : current.x;
  const y: Range | null = onY
    ? ordered(posToVal(sel.top + sel.height, 'y'), posToVal(sel.top, 'y'))
    : current.y;
  return { x, y: y && [Math.max(0, y[0]), y[1]] };
}
const ordered = (a: number, b: number): Range => (a <= b ? [a, b] : [b, a]);

/**
 * The graph's view state for one series: stacks, refusals, scales and zoom. `series` is the process
 * shown (null: none); `pageSize` its system page size.
 */
export function useLockedVmPlot(series: Ref<LockedVmSeries | null>, pageSize: Ref<number>) {
  const log = ref(false);
  const zoom = ref<Zoom>({ x: null, y: null });

  const keys = computed(() => (series.value ? stackKeys(series.value) : []));
  const refusals = computed(() => (series.value ? refusalsOf(series.value) : []));
  const peak = computed(() => (series.value ? peakOf(series.value) : 0));
  const maxLimit = computed(() => (series.value ? maxLimitOf(series.value) : 0));
  const onScale = computed(() =>
    series.value ? limitOnScale(series.value, refusals.value, log.value) : false,
  );
  const data = computed(() => (series.value ? plotData(series.value, keys.value) : null));
  const zoomed = computed(() => zoom.value.x !== null || zoom.value.y !== null);
  const limitText = computed(() => limitLabel(maxLimit.value, pageSize.value));

  /** the y range uPlot asks for: the zoom, else automatic */
  function yRange(): Range {
    if (zoom.value.y) return zoom.value.y;
    return series.value ? autoY(series.value, refusals.value, onScale.value) : [0, 1];
  }
  function xRange(): Range {
    if (zoom.value.x) return zoom.value.x;
    return series.value ? autoX(series.value) : [0, 1];
  }
  function setZoom(z: Zoom): void {
    zoom.value = z;
  }
  function resetZoom(): void {
    zoom.value = { x: null, y: null };
  }
  function toggleLog(): void {
    log.value = !log.value;
    // a y zoom chosen on one scale means little on the other
    zoom.value = { x: zoom.value.x, y: null };
  }

  return {
    log,
    zoom,
    zoomed,
    keys,
    refusals,
    peak,
    maxLimit,
    onScale,
    data,
    limitText,
    yRange,
    xRange,
    setZoom,
    resetZoom,
    toggleLog,
  };
}
