/**
 * The event log's filters and the rows they let through. The filtered list is an array of row indices
 * into the run's rows, extended incrementally while a run streams and rebuilt only when a filter changes.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { EventRow } from '../../../common/contract';
import { useRunStore } from './run';

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

export const useEventLogStore = defineStore('eventLog', () => {
  const run = useRunStore();
  const filters = reactive<LogFilters>({ op: '', errno: '', pid: null, problemsOnly: false, text: '' });
  /** indices into run.rows that pass the filters */
  const visible = shallowRef<number[]>([]);
  const visibleVersion = ref(0);
  const ops = ref<string[]>([]);
  const errnos = ref<string[]>([]);
  let scanned = 0;
  let rowsRef: EventRow[] | null = null;
  const opSet = new Set<string>();
  const errnoSet = new Set<string>();

  const active = computed(
    () => !!(filters.op || filters.errno || filters.pid !== null || filters.problemsOnly || filters.text),
  );

  function sync(rebuild: boolean): void {
    const rows = run.rows;
    if (rows !== rowsRef || rebuild || rows.length < scanned) {
      if (rows !== rowsRef) {
        opSet.clear();
        errnoSet.clear();
      }
      rowsRef = rows;
      scanned = 0;
      visible.value = [];
    }
    const out = visible.value;
    const text = filters.text.toLowerCase();
    const nOps = opSet.size;
    const nErr = errnoSet.size;
    for (let i = scanned; i < rows.length; i++) {
      const r = rows[i]!;
      opSet.add(r.op);
      if (r.errno) errnoSet.add(r.errno);
      if (rowMatches(r, filters, text)) out.push(i);
    }
    scanned = rows.length;
    if (opSet.size !== nOps || ops.value.length !== opSet.size) ops.value = [...opSet].sort();
    if (errnoSet.size !== nErr || errnos.value.length !== errnoSet.size) errnos.value = [...errnoSet].sort();
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
    const rows = run.rows;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[v[mid]!]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, exact: lo < v.length && rows[v[lo]!]!.seq === seq };
  }

  /** seq of the visible row after (dir 1) or before (dir -1) `seq`; null at the ends */
  function neighbour(seq: number | null, dir: 1 | -1): number | null {
    const v = visible.value;
    if (!v.length) return null;
    const rows = run.rows;
    if (seq === null) return rows[v[dir === 1 ? 0 : v.length - 1]!]!.seq;
    const { index, exact } = positionOf(seq);
    const i = dir === 1 ? (exact ? index + 1 : index) : index - 1;
    return i >= 0 && i < v.length ? rows[v[i]!]!.seq : null;
  }

  function reset(): void {
    Object.assign(filters, { op: '', errno: '', pid: null, problemsOnly: false, text: '' });
  }

  return { filters, visible, visibleVersion, ops, errnos, active, positionOf, neighbour, reset };
});
