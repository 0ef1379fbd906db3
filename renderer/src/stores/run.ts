/**
 * The inspectable source on screen — a run of the open scenario, or an imported snapshot — with its
 * streamed event rows, summary, problems and locked_vm series.
 *
 * The renderer does not keep every streamed row: a run of a million calls would cost about a gigabyte.
 * What the event log filters and steps by (seq, line, pid, op, errno, kind, failed) is kept by column
 * (`RowColumns`, 18 bytes an event); the full rows of the last two streamed pages stay as they arrived,
 * and any other row is fetched by page with inspect.rows into a small LRU (`RowPages`), so `rowAt` and
 * `rowBySeq` answer undefined until its page is here (reading `pagesVersion`, a view is re-run then).
 * `rowsVersion` ticks when the columns grow, and views depend on that. Events of a run can arrive before the reply to
 * run.start (the host streams as soon as it starts): they are held until the reply names their source.
 *
 * The run store knows nothing of the selection (which imports it): whoever shows the run subscribes with
 * `onCleared` (a new source replaces the old one) and `onLanded` (a finished run or an import is ready to
 * inspect at a step); the app store wires the selection to both.
 *
 * While a run streams, `liveLockedVm` is its locked_vm per process built from the rows (total only, with
 * the limit once a row states it), published at most every 250 ms; `lockedVm` (inspect.lockedVm, stacked
 * by contributor) replaces it when the run ends.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { EventRow, Events, LockedVmSeries, RunSummary } from '../../../common/contract';
import { call, errorMessage, getBridge } from '../bridge/api';
import { LiveLockedVm, throttle } from '../composables/liveLockedVm';
import { RowColumns } from './rowColumns';
import { RowPages } from './rowPages';
import { useNoticesStore } from './notices';
import { useSettingsStore, type Kernel } from './settings';
import { useWorkspaceStore } from './workspace';

export type RunStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'done' | 'imported' | 'failed';

export type Origin =
  | { kind: 'run'; filename: string; kernel: Kernel }
  | { kind: 'snapshot'; name: string; kernel: string; scenario: string; seq: number };

export interface Problems {
  failedCalls: number;
  failedExpectations: number;
  /** refused calls covered by a passing expectation (not counted in `total`) */
  expected: number;
  /** compile or runtime error of the run (or a failure to start it) */
  error: { message: string; line?: number; column?: number; kind: string } | null;
  total: number;
}

/** 14:02:11, local time */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** a run ended by the user's Stop ('cancelled' from the engine, 'stopped' from the fake bridge): not a problem */
function isStop(kind: string): boolean {
  return kind === 'cancelled' || kind === 'stopped';
}

/**
 * the locked_vm series is thinned by the host to about four points a bucket (each bucket's first, lowest,
 * highest and last) plus every refused call: a million-call run's graph stays a few thousand points
 */
export const LOCKED_VM_BUCKETS = 2048;

/** rows a page of the row cache holds, and how many pages it keeps (besides the streamed tail) */
export const ROW_PAGE = 1000;
export const ROW_PAGES_KEPT = 12;
/** streamed pages kept whole at the end of the log */
const TAIL_PAGES = 2;

/** how long Stop may take before the UI stops waiting for the host to confirm it */
const STOP_GRACE_MS = 5_000;

export const useRunStore = defineStore('run', () => {
  const settings = useSettingsStore();
  const notices = useNoticesStore();
  const status = ref<RunStatus>('idle');
  const source = ref<string | null>(null);
  const origin = ref<Origin | null>(null);
  /** when the shown run started or the snapshot was imported (ms since the epoch) */
  const originAt = ref<number | null>(null);
  /** the scenario text the shown run ran (to tell when the editor has moved on) */
  const ranText = ref<string | null>(null);
  /** what is kept of every row (replaced, never mutated in place, when the source changes) */
  const cols = shallowRef<RowColumns>(markRaw(new RowColumns()));
  const rowCount = ref(0);
  const rowsVersion = ref(0);
  /** full rows of the last streamed pages: page index → rows */
  let tail = new Map<number, EventRow[]>();
  const pagesVersion = ref(0);
  const pages = new RowPages(
    (from, count) => {
      const id = source.value;
      if (!id) return Promise.reject(new Error('no source'));
      return call('inspect.rows', { source: id, from, count });
    },
    ROW_PAGE,
    ROW_PAGES_KEPT,
  );
  pages.onLoaded(() => pagesVersion.value++);
  const summary = ref<RunSummary | null>(null);
  const startError = ref<string | null>(null);
  const failedCalls = ref(0);
  const failedExpectations = ref(0);
  /** refused calls a passing expectErrno/expectRet on the same line covers: expected, not problems */
  const expectedFailures = ref(0);
  let lastFailedCall: { seq: number; line: number | undefined } | null = null;
  /** seqs of failed calls and failed expectations, in order */
  const problemSeqs = shallowRef<number[]>(markRaw([]));
  const pids = ref<number[]>([]);
  const lockedVm = shallowRef<Record<number, LockedVmSeries>>({});
  const lockedVmError = ref<string | null>(null);
  /** locked_vm per process from the streamed rows of the running run (see composables/liveLockedVm.ts) */
  const liveLockedVm = shallowRef<Record<number, LockedVmSeries>>({});
  let live = new LiveLockedVm();
  const livePublish = throttle(() => (liveLockedVm.value = live.series()));

  let early = new Map<string, { rows: EventRow[][]; done?: RunSummary }>();
  let awaitingStart = false;
  let stopTimer: ReturnType<typeof setTimeout> | null = null;
  let unsubscribe: (() => void)[] = [];
  const clearedHooks = new Set<() => void>();
  const landedHooks = new Set<(seq: number) => Promise<void>>();

  /** called when the shown source is replaced (a run starts, a snapshot is imported) */
  function onCleared(fn: () => void): () => void {
    clearedHooks.add(fn);
    return () => clearedHooks.delete(fn);
  }
  /** called when a finished run or an import can be inspected, with its default step */
  function onLanded(fn: (seq: number) => Promise<void>): () => void {
    landedHooks.add(fn);
    return () => landedHooks.delete(fn);
  }

  const kernel = computed<Kernel>({ get: () => settings.kernel, set: (k) => (settings.kernel = k) });
  const running = computed(
    () => status.value === 'starting' || status.value === 'running' || status.value === 'stopping',
  );
  const lastSeq = computed(() => {
    void rowsVersion.value;
    const c = cols.value;
    return c.length ? c.seq(c.length - 1) : 0;
  });
  /** the last selectable step: the end of the run, or an imported snapshot's step */
  const maxSeq = computed(() =>
    Math.max(lastSeq.value, origin.value?.kind === 'snapshot' ? origin.value.seq : 0),
  );
  /**
   * the profile that ran: a scenario that pins it in createHost({ kernel }) overrides the selector, and
   * the label says so and where
   */
  const kernelLabel = computed(() => {
    const o = origin.value;
    if (!o) return '';
    const pin = summary.value?.pinned;
    if (!pin) return o.kernel;
    const at = pin.line ? ` at line ${pin.line}` : '';
    return pin.kernel === o.kernel
      ? `${pin.kernel} (pinned by the scenario${at})`
      : `${pin.kernel} (pinned by the scenario${at}; selector ${o.kernel} overridden)`;
  });
  /** what the results on screen belong to: "qemu-v2-ddw.ts · mainline · 14:02:11" */
  const runLabel = computed(() => {
    const o = origin.value;
    if (!o) return '';
    const at = originAt.value === null ? '' : ` · ${clock(originAt.value)}`;
    return o.kind === 'run'
      ? `${o.filename} · ${kernelLabel.value}${at}`
      : `snapshot ${o.name} (${o.scenario}) · ${o.kernel} · imported${at}`;
  });
  const runTitle = computed(() => {
    const o = origin.value;
    if (!o) return '';
    const at = originAt.value === null ? '' : new Date(originAt.value).toLocaleString();
    return o.kind === 'run'
      ? `Results of a run of ${o.filename} under the ${o.kernel} profile, started ${at}`
      : `Snapshot ${o.name} of ${o.scenario} (${o.kernel}, step ${o.seq}), imported ${at}`;
  });
  /** the run was ended by Stop: where it was (the line that was running), shown in a neutral colour */
  const stopped = computed<{ line: number | null; column: number | null } | null>(() => {
    const e = summary.value?.error;
    return e && isStop(e.kind) ? { line: e.line ?? null, column: e.column ?? null } : null;
  });
  const problems = computed<Problems>(() => {
    const e =
      summary.value?.error ?? (startError.value ? { message: startError.value, kind: 'start' } : null);
    const error = e && !isStop(e.kind) ? e : null;
    return {
      failedCalls: failedCalls.value,
      failedExpectations: failedExpectations.value,
      expected: expectedFailures.value,
      error,
      total: failedCalls.value + failedExpectations.value + (error ? 1 : 0),
    };
  });

  function reset(): void {
    cols.value = markRaw(new RowColumns());
    rowCount.value = 0;
    tail = new Map();
    pages.clear();
    problemSeqs.value = markRaw([]);
    rowsVersion.value++;
    summary.value = null;
    startError.value = null;
    failedCalls.value = 0;
    failedExpectations.value = 0;
    expectedFailures.value = 0;
    lastFailedCall = null;
    pids.value = [];
    lockedVm.value = {};
    lockedVmError.value = null;
    live = new LiveLockedVm();
    livePublish.cancel();
    liveLockedVm.value = {};
  }

  function append(batch: EventRow[]): void {
    if (!batch.length) return;
    const c = cols.value;
    const ps = problemSeqs.value;
    let newPid = false;
    const known = new Set(pids.value);
    for (const row of batch) {
      const p = Math.floor(c.length / ROW_PAGE);
      let t = tail.get(p);
      if (!t) tail.set(p, (t = []));
      t.push(row);
      c.push(row);
      if (row.failed) {
        ps.push(row.seq);
        if (row.kind === 'expect') failedExpectations.value++;
        else {
          failedCalls.value++;
          if (row.kind === 'ioctl') lastFailedCall = { seq: row.seq, line: row.line };
        }
      } else if (
        row.kind === 'expect' &&
        lastFailedCall &&
        lastFailedCall.line !== undefined &&
        row.line === lastFailedCall.line &&
        ps[ps.length - 1] === lastFailedCall.seq
      ) {
        // expectErrno(C.mapDma(…), 'ENXIO') passed: the refusal was the point of the call
        ps.pop();
        failedCalls.value--;
        expectedFailures.value++;
        lastFailedCall = null;
      }
      if (row.kind === 'ioctl' && !row.failed) lastFailedCall = null;
      if (row.pid !== undefined && !known.has(row.pid)) {
        known.add(row.pid);
        newPid = true;
      }
      for (const k in row.lockedVm) {
        const p = Number(k);
        if (!known.has(p)) {
          known.add(p);
          newPid = true;
        }
      }
    }
    if (newPid) pids.value = [...known].sort((a, b) => a - b);
    const last = Math.floor((c.length - 1) / ROW_PAGE);
    for (const p of tail.keys()) if (p <= last - TAIL_PAGES) tail.delete(p);
    rowCount.value = c.length;
    rowsVersion.value++;
    if (running.value) {
      live.add(batch);
      livePublish.poke();
    }
  }

  /**
   * the full row at an index of the log: from the streamed tail or the page cache, or undefined while its
   * page is fetched (the caller re-runs when `pagesVersion` ticks: reading it here makes that automatic)
   */
  function rowAt(index: number): EventRow | undefined {
    void pagesVersion.value;
    if (!Number.isInteger(index) || index < 0 || index >= cols.value.length) return undefined;
    const p = Math.floor(index / ROW_PAGE);
    const t = tail.get(p);
    if (t) return t[index - p * ROW_PAGE];
    return pages.get(index);
  }

  /** the full row of an event by seq if it is at hand, without fetching its page */
  function peekBySeq(seq: number): EventRow | undefined {
    void rowsVersion.value;
    void pagesVersion.value;
    const i = cols.value.indexOf(seq);
    if (i === undefined) return undefined;
    const p = Math.floor(i / ROW_PAGE);
    return tail.get(p)?.[i - p * ROW_PAGE] ?? pages.peek(i);
  }

  /** the full row at an index, fetched if needed */
  async function fetchRow(index: number): Promise<EventRow | undefined> {
    const r = rowAt(index);
    if (r || index < 0 || index >= cols.value.length) return r;
    return pages.row(index);
  }

  /** row of an event by seq, if it is at hand (see rowAt) */
  function rowBySeq(seq: number): EventRow | undefined {
    void rowsVersion.value;
    const i = cols.value.indexOf(seq);
    return i === undefined ? undefined : rowAt(i);
  }

  /** the scenario line of an event by seq, from the columns (never waits for a page) */
  function lineOf(seq: number): number | undefined {
    void rowsVersion.value;
    const c = cols.value;
    const i = c.indexOf(seq);
    return i === undefined ? undefined : c.line(i);
  }

  /** the op of an event by seq, from the columns */
  function opOf(seq: number): string | undefined {
    void rowsVersion.value;
    const c = cols.value;
    const i = c.indexOf(seq);
    return i === undefined ? undefined : c.op(i);
  }

  /** the seq at an index of the log */
  function seqAt(index: number): number {
    return cols.value.seq(index);
  }

  function onEvents(p: Events['run.events']): void {
    if (p.source === source.value && running.value) {
      if (status.value === 'starting') status.value = 'running';
      append(p.rows);
    } else if (awaitingStart) {
      const e = early.get(p.source) ?? { rows: [] };
      e.rows.push(p.rows);
      early.set(p.source, e);
    }
  }

  function onDone(p: Events['run.done']): void {
    if (p.source === source.value && running.value) void finish(p);
    else if (awaitingStart) {
      const e = early.get(p.source) ?? { rows: [] };
      e.done = p;
      early.set(p.source, e);
    }
  }

  function onRestarted(p: Events['engine.restarted']): void {
    const wasRunning = running.value;
    notices.push(
      'warning',
      `The engine restarted (${p.reason}). Your scenario text is kept${wasRunning ? '; the run that was in progress ended' : ''}.`,
      'engine-restarted',
    );
    if (wasRunning) {
      status.value = 'failed';
      startError.value = `the engine restarted during the run: ${p.reason}`;
      endLoad();
    }
    clearStopTimer();
    void useWorkspaceStore().flushAll();
  }

  /** Subscribes to the host's events; call once when the app starts (tests: after setBridge). */
  function init(): void {
    for (const u of unsubscribe) u();
    const b = getBridge();
    unsubscribe = [
      b.on('run.events', onEvents),
      b.on('run.done', onDone),
      b.on('engine.restarted', onRestarted),
    ];
  }

  async function start(): Promise<void> {
    const ws = useWorkspaceStore();
    const buf = ws.current;
    if (!buf || running.value) return;
    reset();
    status.value = 'starting';
    origin.value = { kind: 'run', filename: buf.name, kernel: kernel.value };
    originAt.value = Date.now();
    ranText.value = buf.text;
    source.value = null;
    early = new Map();
    awaitingStart = true;
    beginLoad();
    for (const h of clearedHooks) h();
    void ws.save(buf.name);
    try {
      const r = await call('run.start', { source: buf.text, filename: buf.name, kernel: kernel.value });
      source.value = r.source;
      const e = early.get(r.source);
      early = new Map();
      awaitingStart = false;
      if (status.value !== 'starting' && status.value !== 'stopping') return;
      if (status.value === 'starting') status.value = 'running';
      if (e) {
        for (const batch of e.rows) append(batch);
        if (e.done) await finish(e.done);
      }
      // Stop was pressed before the host named the run
      if ((status.value as RunStatus) === 'stopping') await sendStop();
    } catch (err) {
      awaitingStart = false;
      status.value = 'failed';
      startError.value = errorMessage(err);
      endLoad();
    }
  }

  function clearStopTimer(): void {
    if (stopTimer) clearTimeout(stopTimer);
    stopTimer = null;
  }

  async function sendStop(): Promise<void> {
    const id = source.value;
    if (!id) return;
    clearStopTimer();
    stopTimer = setTimeout(() => {
      if (status.value === 'stopping' && source.value === id) {
        status.value = 'failed';
        startError.value = 'the engine did not confirm Stop; it may be restarting';
        endLoad();
      }
    }, STOP_GRACE_MS);
    try {
      await call('run.stop', { source: id });
    } catch (err) {
      notices.push('error', `Stop failed: ${errorMessage(err)}`, 'stop');
    }
  }

  async function stop(): Promise<void> {
    if (!running.value || status.value === 'stopping') return;
    status.value = 'stopping';
    if (source.value) await sendStop();
  }

  async function finish(p: RunSummary): Promise<void> {
    clearStopTimer();
    livePublish.flush();
    summary.value = p;
    status.value = 'done';
    await afterLoad(lastSeq.value);
  }

  /**
   * Settles when the shown source's graph and default selection are loaded. It is pending from the moment
   * a run starts or an import begins, not only from when the data has arrived: a caller that sees the new
   * status must not get the previous, already resolved promise (the import e2e test once read `seq: null`
   * because `status` said 'imported' while the event log was still being read and nothing was selected).
   */
  let loaded: Promise<void> = Promise.resolve();
  let settle: (() => void) | null = null;

  function beginLoad(): void {
    settle?.();
    loaded = new Promise<void>((r) => (settle = r));
  }
  function endLoad(): void {
    settle?.();
    settle = null;
  }

  /** locked_vm series, then the default selection (the end of the run) */
  async function afterLoad(seq: number): Promise<void> {
    const done = settle;
    settle = null;
    try {
      await Promise.all([loadLockedVm(), ...[...landedHooks].map((h) => h(seq))]);
    } finally {
      done?.();
    }
  }

  /** resolves when the finished run's (or import's) graph and default selection are loaded */
  function whenLoaded(): Promise<void> {
    return loaded;
  }

  async function loadLockedVm(): Promise<void> {
    const id = source.value;
    if (!id) return;
    let list = pids.value;
    if (!list.length) {
      try {
        const st = await call('inspect.state', { source: id, seq: lastSeq.value });
        list = st.processes.map((p) => p.pid);
      } catch {
        list = [];
      }
    }
    const out: Record<number, LockedVmSeries> = {};
    try {
      const series = await Promise.all(
        list.map((pid) => call('inspect.lockedVm', { source: id, pid, buckets: LOCKED_VM_BUCKETS })),
      );
      for (const s of series) out[s.pid] = s;
      lockedVmError.value = null;
    } catch (err) {
      lockedVmError.value = errorMessage(err);
    }
    if (id === source.value) {
      lockedVm.value = out;
      if (!pids.value.length) pids.value = Object.keys(out).map(Number);
    }
  }

  /** Imports a snapshot's text and shows it like a finished run. */
  async function importSnapshot(text: string, name: string): Promise<boolean> {
    if (running.value) await stop();
    let r;
    try {
      r = await call('snapshot.import', { text });
    } catch (err) {
      notices.push('error', `Import of ${name} failed: ${errorMessage(err)}`, 'import');
      return false;
    }
    notices.dismiss('import');
    reset();
    beginLoad();
    for (const h of clearedHooks) h();
    source.value = r.source;
    origin.value = { kind: 'snapshot', name, kernel: r.kernel, scenario: r.scenario, seq: r.seq };
    originAt.value = Date.now();
    status.value = 'imported';
    try {
      for (let from = 0; from < r.events; from += 100_000) {
        const page = await call('inspect.rows', {
          source: r.source,
          from,
          count: Math.min(100_000, r.events - from),
        });
        if (source.value !== r.source) {
          endLoad();
          return false;
        }
        append(page.rows);
        if (!page.rows.length) break;
      }
    } catch (err) {
      notices.push('warning', `The snapshot's event log could not be read: ${errorMessage(err)}`, 'import');
    }
    await afterLoad(r.seq);
    return true;
  }

  return {
    status,
    source,
    origin,
    originAt,
    runLabel,
    runTitle,
    ranText,
    kernelLabel,
    cols,
    rowCount,
    rowsVersion,
    pagesVersion,
    summary,
    startError,
    stopped,
    problems,
    problemSeqs,
    pids,
    lockedVm,
    lockedVmError,
    liveLockedVm,
    kernel,
    running,
    lastSeq,
    maxSeq,
    whenLoaded,
    onCleared,
    onLanded,
    init,
    start,
    stop,
    importSnapshot,
    rowBySeq,
    rowAt,
    peekBySeq,
    fetchRow,
    lineOf,
    opOf,
    seqAt,
    loadLockedVm,
    /** for tests */
    _append: append,
  };
});
