/**
 * Memlock sizing in the workbench (issue 10; `dmawb size`, scenario-api.md §4.1): the open scenario's text
 * sized by the engine worker (memlock.size answers with a job id at once; 'memlock.done' brings the
 * result), stoppable like a run. The result belongs to the file, text and profile it sized: switching
 * file, editing it or choosing another profile makes it stale (the panel dims and says so), as a run's
 * results do (composables/stale.ts).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { Events, MemlockSizing, ProfileName } from '../../../common/contract';
import { call, errorMessage, getBridge, type Bridge } from '../bridge/api';
import { useRunStore } from './run';
import { useWorkspaceStore } from './workspace';

export type MemlockStaleness = null | { reason: 'other-file' | 'edited' | 'other-profile'; file: string };

export const useMemlockStore = defineStore('memlock', () => {
  /** the panel is open */
  const open = ref(false);
  /** the sizing job running now ("size-3"), or null */
  const job = ref<string | null>(null);
  const sizing = shallowRef<MemlockSizing | null>(null);
  const error = ref<Events['memlock.done']['error']>(null);
  /** what the shown sizing (or error) sized: file, text and profile, and when it was asked for */
  const origin = ref<{ filename: string; text: string; kernel: ProfileName; at: number } | null>(null);
  const running = computed(() => job.value !== null);

  let subscribed: Bridge | null = null;
  let off: (() => void) | null = null;
  const waiters: (() => void)[] = [];

  function subscribe(): void {
    const b = getBridge();
    if (subscribed === b) return;
    off?.();
    subscribed = b;
    off = b.on('memlock.done', onDone);
  }

  /** results that arrived before memlock.size's reply (events and replies may travel separately) */
  let early = new Map<string, Events['memlock.done']>();

  function onDone(d: Events['memlock.done']): void {
    if (job.value === 'starting') early.set(d.source, d);
    if (d.source !== job.value) return; // an older job, replaced or stopped
    job.value = null;
    sizing.value = d.sizing;
    error.value = d.error;
    for (const w of waiters.splice(0)) w();
  }

  /** sizes the open scenario under the selected profile and opens the panel */
  async function size(): Promise<void> {
    const ws = useWorkspaceStore();
    const run = useRunStore();
    const buf = ws.current;
    open.value = true;
    if (!buf || job.value) return;
    subscribe();
    origin.value = { filename: buf.name, text: buf.text, kernel: run.kernel, at: Date.now() };
    sizing.value = null;
    error.value = null;
    job.value = 'starting';
    early = new Map();
    try {
      const r = await call('memlock.size', { source: buf.text, filename: buf.name, kernel: run.kernel });
      if (job.value !== 'starting') return;
      job.value = r.source;
      const d = early.get(r.source);
      early = new Map();
      if (d) onDone(d);
    } catch (e) {
      job.value = null;
      error.value = { message: errorMessage(e), kind: 'request' };
      for (const w of waiters.splice(0)) w();
    }
  }

  /** stops the running sizing (run.stop with its id) */
  async function stop(): Promise<void> {
    const id = job.value;
    if (!id || id === 'starting') return;
    try {
      await call('run.stop', { source: id });
    } catch (e) {
      error.value = { message: errorMessage(e), kind: 'request' };
    }
  }

  /** resolves when no sizing is running (tests) */
  function settled(): Promise<void> {
    return job.value === null ? Promise.resolve() : new Promise((r) => waiters.push(r));
  }

  function close(): void {
    open.value = false;
  }

  /** the shown result no longer describes the open file, its text or the selected profile */
  const stale = computed<MemlockStaleness>(() => {
    const o = origin.value;
    if (!o || running.value) return null;
    const ws = useWorkspaceStore();
    if (ws.openName !== o.filename) return { reason: 'other-file', file: o.filename };
    const b = ws.buffers[o.filename];
    if (b && b.text !== o.text) return { reason: 'edited', file: o.filename };
    if (useRunStore().kernel !== o.kernel) return { reason: 'other-profile', file: o.filename };
    return null;
  });

  return { open, job, sizing, error, origin, running, stale, size, stop, settled, close };
});
