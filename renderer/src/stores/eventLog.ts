/**
 * The event log's filters and the rows they let through. Filters are answered from the run's columns
 * (rowColumns.ts), never from full rows, which the renderer does not keep: without a filter the list is
 * every row (nothing is stored); with one it is the matching row indices, extended incrementally while a
 * run streams and rebuilt only when a filter changes. The text filter matches the op and the errno name
 * (case-insensitive substring); arguments, results and explanations are in the full rows only and are not
 * searched.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { EventRow } from '../../../common/contract';
import type { RowColumns } from './rowColumns';
import { useRunStore } from './run';

export interface LogFilters {
  op: string;
  errno: string;
  pid: number | null;
  /** failed calls and failed expectations only */
  problemsOnly: boolean;
  /** substring of op or errno (case-insensitive) */
  text: string;
}

export function rowMatches(r: EventRow, f: LogFilters, text = f.text.toLowerCase()): boolean {
  if (f.op && r.op !== f.op) return false;
  if (f.errno && r.errno !== f.errno) return false;
  if (f.pid !== null && r.pid !== f.pid) return false;
  if (f.problemsOnly && !r.failed) return false;
  if (text && !`${r.op} ${r.errno ?? ''}`.toLowerCase().includes(text)) return false;
  return true;
}

/** the rows the filters let through: `length`, and the row index of each position */
export interface Visible {
  readonly length: number;
  at(k: number): number;
}

function columnsMatcher(c: RowColumns, f: LogFilters): ((i: number) => boolean) | null {
  const m = c.matcher(f);
  if (!m) return null;
  const text = f.text.toLowerCase();
  if (!text) return m;
  return (i) => m(i) && `${c.op(i)} ${c.errno(i) ?? ''}`.toLowerCase().includes(text);
}

export const useEventLogStore = defineStore('eventLog', () => {
  const run = useRunStore();
  const filters = reactive<LogFilters>({ op: '', errno: '', pid: null, problemsOnly: false, text: '' });
  /** the row indices that pass the filters */
  const visible = shallowRef<Visible>({ length: 0, at: (k) => k });
  let matched: number[] = [];
  const visibleVersion = ref(0);
  const ops = ref<string[]>([]);
  const errnos = ref<string[]>([]);
  let scanned = 0;
  let colsRef: RowColumns | null = null;

  const active = computed(
    () => !!(filters.op || filters.errno || filters.pid !== null || filters.problemsOnly || filters.text),
  );

  function sync(rebuild: boolean): void {
    const c = run.cols;
    const n = c.length;
    if (c !== colsRef || rebuild || n < scanned) {
      colsRef = c;
      scanned = 0;
      matched = [];
    }
    if (!active.value) {
      scanned = n;
      visible.value = { length: n, at: (k) => k };
    } else {
      const m = columnsMatcher(c, filters);
      if (m) for (let i = scanned; i < n; i++) if (m(i)) matched.push(i);
      scanned = n;
      const list = matched;
      visible.value = { length: list.length, at: (k) => list[k]! };
    }
    const o = c.opList();
    if (o.length !== ops.value.length) ops.value = o;
    const e = c.errnoList();
    if (e.length !== errnos.value.length) errnos.value = e;
    visibleVersion.value++;
  }

  watch(
    () => run.rowsVersion,
    () => sync(false),
    { immediate: true },
  );
  watch(filters, () => sync(true));

  /** position in `visible` of the row with this seq, or of the first row after it (for next/prev) */
  function positionOf(seq: number): { index: number; exact: boolean } {
    const v = visible.value;
    const c = run.cols;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c.seq(v.at(mid)) < seq) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, exact: lo < v.length && c.seq(v.at(lo)) === seq };
  }

  /** seq of the visible row after (dir 1) or before (dir -1) `seq`; null at the ends */
  function neighbour(seq: number | null, dir: 1 | -1): number | null {
    const v = visible.value;
    if (!v.length) return null;
    const c = run.cols;
    if (seq === null) return c.seq(v.at(dir === 1 ? 0 : v.length - 1));
    const { index, exact } = positionOf(seq);
    const i = dir === 1 ? (exact ? index + 1 : index) : index - 1;
    return i >= 0 && i < v.length ? c.seq(v.at(i)) : null;
  }

  function reset(): void {
    Object.assign(filters, { op: '', errno: '', pid: null, problemsOnly: false, text: '' });
  }

  return { filters, visible, visibleVersion, ops, errnos, active, positionOf, neighbour, reset };
});
