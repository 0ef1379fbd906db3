/**
 * Comparisons (product.md workflows 6 and 7):
 *   - steps: what changed from one step to another — two steps of a run ("compare with previous event":
 *     the selected event against the state before it), or an imported snapshot against a run's step
 *     (inspect.compare, engine/snapshot.ts diffStates lines);
 *   - profiles: the open scenario run under two profiles (any two of 4.2, 5.x, mainline), its ioctl calls aligned as a diff (calls
 *     both make pair up, extra calls are one-sided rows), with the rows where they diverge (run.compare).
 * It remembers the last few sources shown (runs and imports) with the step last selected in each, so a
 * comparison can reach back to the run before an import.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import type { CompareSummary, ProfileComparison, ProfileName } from '../../../common/contract';
import { DEFAULT_KERNEL_PAIR } from '../../../common/kernels';
import { call, errorMessage } from '../bridge/api';
import { useRunStore } from './run';
import { useSelectionStore } from './selection';
import { useWorkspaceStore } from './workspace';

export interface StepRef {
  source: string;
  seq: number;
}

export interface KnownSource {
  id: string;
  label: string;
  kind: 'run' | 'snapshot';
  maxSeq: number;
  /** the step last selected in it */
  seq: number;
}

/** as many as the engine keeps (host/sources.ts KEEP_RUNS + KEEP_SNAPSHOTS) */
const KEEP_SOURCES = 10;

export const useCompareStore = defineStore('compare', () => {
  /** which comparison view is open */
  const view = ref<'steps' | 'profiles' | null>(null);
  const known = ref<KnownSource[]>([]);

  const a = ref<StepRef | null>(null);
  const b = ref<StepRef | null>(null);
  const lines = shallowRef<string[]>([]);
  const summary = ref<CompareSummary | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let generation = 0;

  const profiles = shallowRef<ProfileComparison | null>(null);
  const profilesError = ref<string | null>(null);
  const profilesRunning = ref(false);
  const onlyDiffering = ref(false);

  /** follows the run store: every source shown is remembered, with its selected step */
  function track(): () => void {
    const run = useRunStore();
    const sel = useSelectionStore();
    const stop1 = watch(
      () => [run.source, run.maxSeq, run.status] as const,
      ([id]) => {
        if (!id || run.running) return;
        const o = run.origin;
        const label =
          o?.kind === 'snapshot'
            ? `snapshot ${o.name} · ${o.kernel}`
            : o
              ? `${o.filename} · ${o.kernel}`
              : id;
        const existing = known.value.find((k) => k.id === id);
        if (existing) Object.assign(existing, { label: `${id}: ${label}`, maxSeq: run.maxSeq });
        else
          known.value = [
            {
              id,
              label: `${id}: ${label}`,
              kind: o?.kind ?? 'run',
              maxSeq: run.maxSeq,
              seq: sel.seq ?? run.maxSeq,
            },
            ...known.value,
          ].slice(0, KEEP_SOURCES);
      },
      { immediate: true },
    );
    const stop2 = watch(
      () => sel.seq,
      (s) => {
        const k = known.value.find((x) => x.id === run.source);
        if (k && s !== null) k.seq = s;
      },
    );
    return () => {
      stop1();
      stop2();
    };
  }

  /** compares step a with step b and opens the view */
  async function compare(x: StepRef, y: StepRef): Promise<void> {
    view.value = 'steps';
    a.value = { ...x };
    b.value = { ...y };
    const gen = ++generation;
    loading.value = true;
    try {
      const r = await call('inspect.compare', { a: x, b: y });
      if (gen !== generation) return;
      lines.value = r.lines;
      summary.value = r.summary;
      error.value = null;
    } catch (e) {
      if (gen !== generation) return;
      lines.value = [];
      summary.value = null;
      error.value = errorMessage(e);
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  /**
   * The default comparison for the selected step: on a run, the state before the selected event against
   * the state after it (what the event changed); on an imported snapshot, the most recent other source's
   * selected step against the snapshot.
   */
  function defaultPair(): { a: StepRef; b: StepRef } | null {
    const run = useRunStore();
    const sel = useSelectionStore();
    const id = run.source;
    if (!id) return null;
    const seq = sel.seq ?? run.maxSeq;
    if (run.origin?.kind === 'snapshot') {
      const other = known.value.find((k) => k.id !== id);
      if (other) return { a: { source: other.id, seq: other.seq }, b: { source: id, seq } };
      return { a: { source: id, seq }, b: { source: id, seq } };
    }
    return { a: { source: id, seq: Math.max(0, seq - 1) }, b: { source: id, seq } };
  }

  async function compareWithPrevious(): Promise<void> {
    const p = defaultPair();
    if (p) await compare(p.a, p.b);
  }

  /** the two profiles the profile comparison runs (oldest first) */
  const profilePair = ref<[ProfileName, ProfileName]>([...DEFAULT_KERNEL_PAIR]);

  /** run.compare of the open scenario's text, under `pair` (remembered) or the last pair */
  async function compareProfiles(pair?: [ProfileName, ProfileName]): Promise<void> {
    const ws = useWorkspaceStore();
    const buf = ws.current;
    if (!buf || profilesRunning.value) return;
    if (pair) profilePair.value = pair;
    view.value = 'profiles';
    profilesRunning.value = true;
    profilesError.value = null;
    try {
      profiles.value = await call('run.compare', {
        source: buf.text,
        filename: buf.name,
        profiles: profilePair.value,
      });
    } catch (e) {
      profiles.value = null;
      profilesError.value = errorMessage(e);
    } finally {
      profilesRunning.value = false;
    }
  }

  function close(): void {
    view.value = null;
  }

  return {
    view,
    known,
    a,
    b,
    lines,
    summary,
    error,
    loading,
    profiles,
    profilesError,
    profilesRunning,
    onlyDiffering,
    track,
    compare,
    defaultPair,
    compareWithPrevious,
    compareProfiles,
    profilePair,
    close,
  };
});
