/**
 * The event log's filters and the rows they let through. Filters are answered from the run's columns
 * (rowColumns.ts), never from full rows, which the renderer does not keep: without a filter the list is
 * every row (nothing is stored); with one it is the matching row indices, extended incrementally while a
 * run streams and rebuilt only when a filter changes. The text filter (op, arguments, result or
 * explanation, case-insensitive) needs the full rows: the host searches them (inspect.search), a stretch
 * at a time, and the list grows as its answers arrive (`searching` is true meanwhile).
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { EventRow } from '../../../common/contract';
import type { RowColumns } from './rowColumns';
import { call } from '../bridge/api';
import { useRunStore } from './run';

/** events the host searches per request */
const SEARCH_STRETCH = 200_000;

export interface LogFilters {
  op: string;
  errno: string;
  pid: number | null;
  /** failed calls and failed expectations only */
  problemsOnly: boolean;
  /** substring of op, args, result or explain (case-insensitive) */
  text: string;
}

export function rowMatches(r: EventRow, f: LogFilters, text = f.text.toLowerCase()): boolean {
  if (f.op && r.op !== f.op) return false;
  if (f.errno && r.errno !== f.errno) return false;
  if (f.pid !== null && r.pid !== f.pid) return false;
  if (f.problemsOnly && !r.failed) return false;
  if (text && !`${r.op} ${r.args} ${r.result} ${r.explain}`.toLowerCase().includes(text)) return false;
  return true;
}

/** the rows the filters let through: `length`, and the row index of each position */
export interface Visible {
  readonly length: number;
  at(k: number): number;
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
  /** bumped on every rebuild: a search answer of an older list is dropped */
  let generation = 0;
  /** rows handed to the host's search so far (text filter), and whether a search is in flight */
  let searchedTo = 0;
  let inFlight = false;
  const searching = ref(false);

  const active = computed(
    () => !!(filters.op || filters.errno || filters.pid !== null || filters.problemsOnly || filters.text),
  );

  function sync(rebuild: boolean): void {
    const c = run.cols;
    const n = c.length;
    if (c !== colsRef || rebuild || n < scanned) {
      colsRef = c;
      scanned = 0;
      searchedTo = 0;
      inFlight = false;
      generation++;
      matched = [];
    }
    if (!active.value) {
      scanned = n;
      visible.value = { length: n, at: (k) => k };
    } else if (filters.text) {
      scanned = n;
      void search();
      const list = matched;
      visible.value = { length: list.length, at: (k) => list[k]! };
    } else {
      const m = c.matcher(filters);
      if (m) for (let i = scanned; i < n; i++) if (m(i)) matched.push(i);
      scanned = n;
      const list = matched;
      visible.value = { length: list.length, at: (k) => list[k]! };
    }
    searching.value = inFlight;
    const o = c.opList();
    if (o.length !== ops.value.length) ops.value = o;
    const e = c.errnoList();
    if (e.length !== errnos.value.length) errnos.value = e;
    visibleVersion.value++;
  }

  /** asks the host to search the rows not searched yet, a stretch at a time; the columns filter the rest */
  async function search(): Promise<void> {
    if (inFlight) return;
    const gen = generation;
    const c = run.cols;
    const source = run.source;
    if (!source) return;
    inFlight = true;
    searching.value = true;
    try {
      while (gen === generation && searchedTo < c.length) {
        const from = searchedTo;
        const count = Math.min(SEARCH_STRETCH, c.length - from);
        const r = await call('inspect.search', { source, text: filters.text, from, count });
        if (gen !== generation) return;
        const m = c.matcher(filters);
        if (m) for (const i of r.indices) if (i < c.length && m(i)) matched.push(i);
        searchedTo = from + count;
        const list = matched;
        visible.value = { length: list.length, at: (k) => list[k]! };
        visibleVersion.value++;
      }
    } catch {
      // the source went away (a new run): the rebuild that follows searches again
    } finally {
      if (gen === generation) {
        inFlight = false;
        searching.value = false;
      }
    }
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

  return { filters, visible, visibleVersion, ops, errnos, active, searching, positionOf, neighbour, reset };
});
