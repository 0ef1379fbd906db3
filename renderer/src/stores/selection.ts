/**
 * Time travel: the selected event. Every view shows the state *after* it (seq 0: before the first
 * event). Selecting fetches that step's state and the event's detail; a newer selection wins over
 * answers still in flight for an older one.
 *
 * The selection follows the run (it reads the run store; the run store never reads it): the app store
 * wires `clear` to a new source and `selectDefault` to a finished run or import (stores/app.ts).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { Responses, StateView } from '../../../common/contract';
import { call, errorMessage } from '../bridge/api';
import { useRunStore } from './run';
import { KVM_ANSWERED } from './rowColumns';

/** A run of TCE slots written by the selected event (engine/events.ts TceRun, positions only). */
export interface ChangedRun {
  container: number;
  slot: number;
  table: number;
  start: number;
  count: number;
}

/** the selected event in full: the engine's RunEvent in wire form (common/contract.ts InspectEvent) */
export type EventDetail = Responses['inspect.event']['event'];

export function changedRunsOf(event: unknown): ChangedRun[] {
  // engine/events.ts StateDeltas.tces, read defensively: the event is JSON from the host
  const tces = (event as { deltas?: { tces?: unknown } } | null)?.deltas?.tces;
  if (!Array.isArray(tces)) return [];
  return (tces as ({ [K in keyof ChangedRun]: unknown } | null)[])
    .filter((t): t is ChangedRun => !!t && typeof t.start === 'number' && typeof t.count === 'number')
    .map((t) => ({
      container: Number(t.container),
      slot: Number(t.slot),
      table: Number(t.table),
      start: t.start,
      count: t.count,
    }));
}

export const useSelectionStore = defineStore('selection', () => {
  const seq = ref<number | null>(null);
  const state = shallowRef<StateView | null>(null);
  const stateError = ref<string | null>(null);
  const event = shallowRef<EventDetail | null>(null);
  const loading = ref(false);
  /** completes when the state of the current selection has arrived (tests, benchmarks) */
  let ready: Promise<void> = Promise.resolve();
  let generation = 0;

  const changed = computed(() => changedRunsOf(event.value));

  function clear(): void {
    generation++;
    seq.value = null;
    state.value = null;
    stateError.value = null;
    event.value = null;
  }

  async function fetch(source: string, s: number, gen: number): Promise<void> {
    loading.value = true;
    const [st, ev] = await Promise.allSettled([
      call('inspect.state', { source, seq: s }),
      s > 0 ? call('inspect.event', { source, seq: s }) : Promise.resolve({ event: null }),
    ]);
    if (gen !== generation) return;
    loading.value = false;
    if (st.status === 'fulfilled') {
      state.value = st.value;
      stateError.value = null;
    } else {
      stateError.value = errorMessage(st.reason);
    }
    event.value = ev.status === 'fulfilled' ? (ev.value.event ?? null) : null;
  }

  /** Selects the state after event `s` (clamped to the run). */
  function select(s: number): Promise<void> {
    const run = useRunStore();
    const source = run.source;
    if (!source) return Promise.resolve();
    const clamped = Math.max(0, Math.min(Math.floor(s), run.maxSeq));
    seq.value = clamped;
    const gen = ++generation;
    ready = fetch(source, clamped, gen);
    return ready;
  }

  /**
   * After a run or an import: the given step (the end of the run). If nothing is mapped there — a
   * scenario that tears everything down at the end — the last successful MAP_DMA (or H_PUT_TCE) instead, so the
   * inspector opens on a window that has valid entries.
   */
  function selectDefault(s: number): Promise<void> {
    const p = pickDefault(s);
    // whenReady() waits for the whole choice, not only its first step
    ready = p;
    return p;
  }

  async function pickDefault(s: number): Promise<void> {
    await select(s);
    const st = state.value;
    if (!st || st.windows.some((w) => w.valid > 0)) return;
    const run = useRunStore();
    if (run.origin?.kind === 'snapshot') return;
    const c = run.cols;
    for (let i = c.length - 1; i >= 0; i--) {
      // the last call that wrote TCEs: a VFIO MAP, or a guest H_PUT_TCE* KVM answered (kernel-model.md §13.8)
      const kind = c.kind(i);
      const maps =
        (kind === 'ioctl' && c.op(i) === 'VFIO_IOMMU_MAP_DMA') ||
        (kind === 'hcall' && (c.flags(i) & KVM_ANSWERED) !== 0);
      const seq = c.seq(i);
      if (seq <= s && maps && !c.failed(i)) {
        await select(seq);
        return;
      }
    }
  }

  function whenReady(): Promise<void> {
    return ready;
  }

  return { seq, state, stateError, event, changed, loading, clear, select, selectDefault, whenReady };
});
