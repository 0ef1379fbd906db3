/**
 * The engine side of the contract: answers every request channel that needs the engine (runs, time
 * travel, inspection, exports, snapshot import) from the sources it holds. No worker_threads and no
 * Electron here: host/worker.ts wraps it in a thin message loop, and tests drive it in-process.
 *
 * Runs execute one at a time, in the order they were started. `run.start` answers at once with the new
 * source id; the run itself starts on a later macrotask, so the reply leaves before the (synchronous)
 * QuickJS evaluation can block the thread. Rows stream on 'run.events' in batches of at most 2,000 rows
 * or 50 ms, and 'run.done' carries the RunSummary.
 */
import { createHash } from 'node:crypto';
import type {
  EventChannel,
  EventRow,
  Events,
  ProfileName,
  RequestOf,
  Responses,
  RunSummary,
  Wire,
} from '../common/contract.ts';
import { EventStore } from '../engine/event-store.ts';
import type { RunEvent } from '../engine/events.ts';
import { renderReport } from '../engine/report.ts';
import { compareProfiles, PROFILES, type ProfileRunInput } from '../engine/profile-compare.ts';
import {
  diffStates,
  jsonSafe,
  parseSnapshot,
  snapshotPieces,
  SnapshotError,
  type SnapshotMeta,
} from '../engine/snapshot.ts';
import {
  entries,
  findEntry,
  occupancy,
  validEntries,
  validIndexOf,
  type WindowState,
  type WorldState,
} from '../engine/state.ts';
import { exportC, ExportError } from '../interop/export-c/index.ts';
import { runScenario } from '../runner/run.ts';
import { sizeScenario } from '../engine/memlock.ts';
import { toMemlockSizing } from './memlock-view.ts';
import { importCaptureTexts, skippedSummary } from '../interop/import/index.ts';
import { CANCEL_SLOTS, cancelSlotOf, type EngineChannel } from './engine-channels.ts';
import { SourceError, SourceStore, type RunSource, type Source } from './sources.ts';
import { EventRows, lockedVmSeries, regionPidOf, toEntryRow, toStateView, windowCsv } from './views.ts';

export {
  cancelSlotOf,
  CANCEL_SLOTS,
  ENGINE_CHANNELS,
  isEngineChannel,
  type EngineChannel,
} from './engine-channels.ts';

/** streaming limits of 'run.events' */
export const BATCH_ROWS = 2_000;
export const BATCH_MS = 50;

export interface EngineServiceOptions {
  /** sends an event to the renderer(s) */
  emit: <E extends EventChannel>(event: E, payload: Events[E]) => void;
  /** told when a run really starts executing (the host's Stop watchdog needs to know) */
  onRunBegin?: (source: string) => void;
  /** CANCEL_SLOTS Int32 flags shared with the thread that handles Stop (default: a private buffer) */
  cancel?: Int32Array;
  appName?: string;
  appVersion?: string;
  /** runner budgets (defaults: the runner's) */
  timeoutMs?: number;
  memoryLimitBytes?: number;
  maxEvents?: number;
  /** the scenario runner (tests may wrap it) */
  runner?: typeof runScenario;
  keepRuns?: number;
  /** bytes of event log all sources may hold together (see sources.ts KEEP_EVENT_BYTES) */
  keepEventBytes?: number;
}

/** A request the service refuses or cannot answer; the message is meant for the user. */
export class ServiceError extends Error {
  override name = 'ServiceError';
}

export class EngineService {
  readonly sources: SourceStore;
  private readonly cancel: Int32Array;
  private queue: Promise<void> = Promise.resolve();
  private nextSize = 0;

  constructor(private readonly opts: EngineServiceOptions) {
    this.cancel = opts.cancel ?? new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * 4));
    if (this.cancel.length < CANCEL_SLOTS) throw new Error(`the cancel buffer needs ${CANCEL_SLOTS} slots`);
    this.sources = new SourceStore(opts.keepRuns, undefined, opts.keepEventBytes);
  }

  /**
   * Answers one (already validated) request. Throws ServiceError, SourceError or SnapshotError with a
   * message for the user when it cannot.
   */
  async handle<C extends EngineChannel>(channel: C, req: RequestOf<C>): Promise<Responses[C]> {
    const h = this.handlers[channel] as (r: RequestOf<C>) => Responses[C] | Promise<Responses[C]>;
    if (!h) throw new ServiceError(`${channel} is not an engine channel`);
    return h(req);
  }

  /** resolves when every run started so far has finished */
  idle(): Promise<void> {
    return this.queue;
  }

  private readonly handlers: {
    [C in EngineChannel]: (req: RequestOf<C>) => Responses[C] | Promise<Responses[C]>;
  } = {
    'run.start': (r) => {
      const src = this.sources.addRun({
        filename: r.filename,
        kernel: r.kernel,
        text: r.source,
        sha256: createHash('sha256').update(r.source).digest('hex'),
      });
      Atomics.store(this.flagOf(src.id), 0, 0);
      // a later macrotask: the reply is posted before the run can block the thread
      this.queue = this.queue.then(
        () => new Promise<void>((resolve) => setImmediate(() => void this.execute(src).finally(resolve))),
      );
      return { source: src.id };
    },
    'run.stop': (r) => {
      const src = this.sources.has(r.source) ? this.sources.get(r.source) : null;
      if (!src || src.kind !== 'run' || src.status === 'done') return { stopped: false };
      Atomics.store(this.flagOf(src.id), 0, 1);
      return { stopped: true };
    },
    'inspect.event': (r) => {
      const e = eventAt(this.sources.get(r.source), r.seq);
      if (!e) throw new ServiceError(`${r.source} has no event ${r.seq}`);
      // the engine's event in its wire form; it must fit the contract's InspectEvent (compile error if not)
      const event: Wire<RunEvent> = jsonSafe(e);
      return { event };
    },
    'inspect.rows': (r) => {
      const evs = this.sources.get(r.source).events;
      // the limits rows carry depend on the host and process deltas before them (only those are read)
      const conv = new EventRows();
      const from = Math.min(r.from, evs.length);
      for (const i of evs.hostOrProcessEventsBefore(from)) conv.skip(evs.at(i)!);
      return { rows: evs.slice(from, r.from + r.count).map((e) => conv.row(e)), total: evs.length };
    },
    'inspect.search': (r) => {
      const evs = this.sources.get(r.source).events;
      const conv = new EventRows();
      const from = Math.min(r.from, evs.length);
      const to = Math.min(evs.length, from + r.count);
      for (const i of evs.hostOrProcessEventsBefore(from)) conv.skip(evs.at(i)!);
      const needle = r.text.toLowerCase();
      const indices: number[] = [];
      for (let i = from; i < to; i++) {
        const row = conv.row(evs.at(i)!);
        if (`${row.op} ${row.args} ${row.result} ${row.explain}`.toLowerCase().includes(needle))
          indices.push(i);
      }
      return { indices, total: evs.length };
    },
    'inspect.state': (r) => {
      const src = this.sources.get(r.source);
      return toStateView(this.sources.stateAt(src, r.seq));
    },
    'inspect.entries': (r) => {
      const { state, w } = this.window(r);
      const pid = regionPidOf(state, w.container);
      if (r.validOnly) {
        const v = validEntries(w, r.from, r.count);
        return { total: v.total, rows: v.rows.map((e) => toEntryRow(state, pid, e)) };
      }
      return { total: w.entries, rows: entries(w, r.from, r.count).map((e) => toEntryRow(state, pid, e)) };
    },
    'inspect.occupancy': (r) => ({ buckets: occupancy(this.window(r).w, r.buckets) }),
    'inspect.find': (r) => {
      if ((r.iova === undefined) === (r.ua === undefined))
        throw new ServiceError('inspect.find: give exactly one of iova and ua');
      const { w } = this.window(r);
      const index = findEntry(w, r.iova !== undefined ? { iova: BigInt(r.iova) } : { ua: BigInt(r.ua!) });
      return { index, validIndex: validIndexOf(w, index) };
    },
    'inspect.lockedVm': (r) => {
      const src = this.sources.get(r.source);
      const last = src.kind === 'snapshot' ? src.state : null;
      const series = lockedVmSeries(src.events, r.pid, last, r.buckets);
      if (!series) throw new ServiceError(`${r.source} has no process with pid ${r.pid}`);
      return series;
    },
    'export.snapshot': (r) => {
      const src = this.sources.get(r.source);
      const state = this.sources.stateAt(src, r.seq);
      // the events are read one at a time; a log too large for a snapshot is refused, not built
      const text = snapshotPieces(
        { meta: this.metaOf(src), state },
        r.includeEvents ? src.events : null,
      ).join('');
      return { suggestedName: `${stemOf(src)}-${state.seq}.snapshot.json`, text };
    },
    'export.report': (r) => {
      const src = this.sources.get(r.source);
      const state = this.sources.stateAt(src, r.seq);
      const outcome = this.outcomeOf(src);
      const text = renderReport({
        scenario: src.kind === 'run' ? src.filename : src.meta.scenarioName,
        kernel: src.kind === 'run' ? src.kernel : src.meta.kernel,
        ...outcome,
        events: src.events,
        state,
      });
      return { suggestedName: `${stemOf(src)}-${state.seq}.report.md`, text };
    },
    'export.csv': (r) => {
      const { state, w } = this.window(r);
      let text: string;
      try {
        text = windowCsv(state, w);
      } catch (e) {
        throw new ServiceError((e as Error).message);
      }
      return {
        suggestedName: `${stemOf(this.sources.get(r.source))}-${state.seq}-container${w.container}-slot${w.slot}.csv`,
        text,
      };
    },
    'capture.import': (r) => {
      const res = importCaptureTexts(
        r.files.map((f) => ({ file: f.name, text: f.text })),
        {
          ...(r.kernel ? { kernel: r.kernel } : {}),
          ...(r.pageSize ? { pageSize: r.pageSize } : {}),
          ...(r.memlock ? { memlock: r.memlock === 'unlimited' ? 'unlimited' : BigInt(r.memlock) } : {}),
          ...(r.ram ? { ram: BigInt(r.ram) } : {}),
        },
      );
      const problems = res.problems.map((p) => `${p.at.file}:${p.at.line}: ${p.message}`);
      if (res.scenario === null)
        throw new ServiceError(
          `nothing importable in ${r.files.map((f) => f.name).join(', ')}: no recorded call or locked_vm line${problems.length ? ` (${problems.slice(0, 3).join('; ')})` : ''}`,
        );
      const stem =
        r.files[0]!.name.replace(/^.*[\\/]/, '')
          .replace(/\.[^.]*$/, '')
          .replace(/[^A-Za-z0-9._-]/g, '_') || 'capture';
      return {
        scenario: res.scenario,
        suggestedName: `import-${stem}.ts`,
        problems,
        skipped: skippedSummary(res.skipped),
        calls: res.calls,
        checks: res.checks,
      };
    },
    'snapshot.import': (r) => {
      const snap = parseSnapshot(r.text); // throws SnapshotError: nothing is created
      const events = new EventStore();
      for (const e of snap.events ?? []) events.push(e);
      const src = this.sources.addSnapshot({ meta: snap.meta, state: snap.state, events });
      return {
        source: src.id,
        seq: snap.state.seq,
        kernel: snap.meta.kernel,
        scenario: snap.meta.scenarioName,
        events: src.events.length,
      };
    },
    'inspect.compare': (r) => {
      const side = (x: { source: string; seq: number }) => {
        const src = this.sources.get(x.source);
        const state = this.sources.stateAt(src, x.seq);
        const name = src.kind === 'run' ? src.filename : `snapshot of ${src.meta.scenarioName}`;
        const kernel = src.kind === 'run' ? src.kernel : src.meta.kernel;
        return { state, label: `${name} · ${kernel} · after seq ${state.seq}` };
      };
      const a = side(r.a);
      const b = side(r.b);
      const { lines } = diffStates(a.state, b.state);
      const count = (c: string) => lines.filter((l) => l.startsWith(`${c} `)).length;
      return {
        lines,
        summary: {
          a: a.label,
          b: b.label,
          added: count('+'),
          removed: count('-'),
          changed: count('~'),
          identical: lines.length === 0,
        },
      };
    },
    'export.c': (r) => {
      // queued like run.compare: the scenario runs once more, behind the runs started so far
      const job = this.queue
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => this.exportProgram(r));
      this.queue = job.then(
        () => undefined,
        () => undefined,
      );
      return job;
    },
    'memlock.size': (r) => {
      const id = `size-${++this.nextSize}`;
      Atomics.store(this.flagOf(id), 0, 0);
      // queued like a run, a later macrotask: the reply (the id Stop needs) leaves first
      this.queue = this.queue.then(
        () => new Promise<void>((resolve) => setImmediate(() => void this.size(id, r).finally(resolve))),
      );
      return { source: id };
    },
    'run.compare': (r) => {
      // behind every run started so far, and ahead of any started later: runs execute one at a time
      const job = this.queue
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => this.compareRuns(r.source, r.filename, r.profiles ?? PROFILES));
      this.queue = job.then(
        () => undefined,
        () => undefined,
      );
      return job;
    },
  };

  /** run.compare: the scenario under each profile (not streamed, not kept as sources), then aligned */
  private async compareRuns(
    source: string,
    filename: string,
    profiles: readonly [ProfileName, ProfileName],
  ): Promise<Responses['run.compare']> {
    const runs: Partial<Record<ProfileName, ProfileRunInput>> = {};
    for (const kernel of profiles) {
      const r = await (this.opts.runner ?? runScenario)({
        source,
        filename,
        kernel,
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
        ...(this.opts.memoryLimitBytes !== undefined ? { memoryLimitBytes: this.opts.memoryLimitBytes } : {}),
        ...(this.opts.maxEvents !== undefined ? { maxEvents: this.opts.maxEvents } : {}),
      });
      runs[kernel] = r;
    }
    return compareProfiles(filename, runs, undefined, undefined, profiles);
  }

  /**
   * memlock.size: engine/memlock.ts sizeScenario with this worker's runner — every rerun under a run's
   * budgets and the job's cancel flag, each announced with onRunBegin (the host's deadline watchdog
   * restarts per rerun, as the command line's does) — then 'memlock.done' with the sizing or the error.
   */
  private async size(
    id: string,
    r: { source: string; filename: string; kernel: ProfileName },
  ): Promise<void> {
    const flag = this.flagOf(id);
    const t0 = performance.now();
    let pinned: ReturnType<typeof pinOf> = {};
    let firstKind: string | null = null;
    let done: Events['memlock.done'];
    try {
      if (Atomics.load(flag, 0) !== 0) throw new Cancelled();
      const report = await sizeScenario(async (policy) => {
        if (Atomics.load(flag, 0) !== 0) throw new Cancelled();
        this.opts.onRunBegin?.(id);
        const res = await (this.opts.runner ?? runScenario)({
          source: r.source,
          filename: r.filename,
          kernel: r.kernel,
          memlock: policy,
          cancelFlag: flag,
          ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
          ...(this.opts.memoryLimitBytes !== undefined
            ? { memoryLimitBytes: this.opts.memoryLimitBytes }
            : {}),
          ...(this.opts.maxEvents !== undefined ? { maxEvents: this.opts.maxEvents } : {}),
        });
        if (Atomics.load(flag, 0) !== 0) throw new Cancelled();
        if (firstKind === null) {
          firstKind = res.error?.kind ?? '';
          pinned = pinOf(res.session);
        }
        return {
          events: res.events,
          processes: res.session.memlockPeaks(),
          error: res.error && { message: res.error.message, line: res.error.line, column: res.error.column },
        };
      });
      const e = report.error;
      done = e
        ? {
            source: id,
            sizing: null,
            error: {
              message: `the sizing run could not complete: ${e.message}`,
              kind: firstKind || 'runtime',
              ...(e.line !== null ? { line: e.line } : {}),
              ...(e.column !== null ? { column: e.column } : {}),
            },
          }
        : {
            source: id,
            sizing: toMemlockSizing(report, {
              scenario: r.filename,
              kernel: r.kernel,
              ...pinned,
              at: new Date(),
              durationMs: Math.round(performance.now() - t0),
            }),
            error: null,
          };
    } catch (e) {
      done = {
        source: id,
        sizing: null,
        error:
          e instanceof Cancelled
            ? { message: 'the sizing was stopped', kind: 'cancelled' }
            : { message: `internal error: ${e instanceof Error ? e.message : String(e)}`, kind: 'internal' },
      };
    }
    this.opts.emit('memlock.done', done);
  }

  /** export.c: the scenario as a C program for a real host (interop/export-c, scenario-api.md §4.3) */
  private async exportProgram(r: {
    source: string;
    filename: string;
    kernel: ProfileName;
  }): Promise<Responses['export.c']> {
    let x;
    try {
      x = await exportC({
        source: r.source,
        filename: r.filename,
        kernel: r.kernel,
        generator: `${this.opts.appName ?? 'dma-workbench'} ${this.opts.appVersion ?? '0.0.0'}`,
        ...(this.opts.runner !== undefined ? { runner: this.opts.runner } : {}),
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
        ...(this.opts.memoryLimitBytes !== undefined ? { memoryLimitBytes: this.opts.memoryLimitBytes } : {}),
        ...(this.opts.maxEvents !== undefined ? { maxEvents: this.opts.maxEvents } : {}),
      });
    } catch (e) {
      if (e instanceof ExportError) throw new ServiceError(`${r.filename}: cannot export: ${e.message}`);
      throw e;
    }
    if (!x.ok) {
      const at = x.error.line != null ? `:${x.error.line}:${x.error.column ?? 0}` : '';
      throw new ServiceError(
        `${r.filename}${at}: ${x.error.message} (the scenario did not complete, so there is no program to export)`,
      );
    }
    const stem =
      (r.filename.split(/[\\/]/).pop() ?? 'scenario')
        .replace(/\.ts$/, '')
        .replace(/[^A-Za-z0-9._-]+/g, '_')
        .slice(0, 80) || 'scenario';
    return { suggestedName: `${stem}-${r.kernel}.c`, text: x.text };
  }

  private flagOf(source: string): Int32Array {
    const slot = cancelSlotOf(source);
    return new Int32Array(this.cancel.buffer, this.cancel.byteOffset + slot * 4, 1);
  }

  private window(r: { source: string; seq: number; container: number; slot: number }): {
    state: WorldState;
    w: WindowState;
  } {
    const state = this.sources.stateAt(this.sources.get(r.source), r.seq);
    const w = state.windows.find((x) => x.container === r.container && x.slot === r.slot);
    if (!w)
      throw new ServiceError(
        `${r.source}: container ${r.container} has no window in slot ${r.slot} after event ${state.seq}`,
      );
    return { state, w };
  }

  private metaOf(src: Source): SnapshotMeta {
    if (src.kind === 'snapshot') return src.meta;
    return {
      appName: this.opts.appName ?? 'dma-workbench',
      appVersion: this.opts.appVersion ?? '0.0.0',
      // createHost({ kernel }) in the scenario wins over the selector: name the profile that ran
      kernel: (src.summary?.pinned?.kernel as typeof src.kernel | undefined) ?? src.kernel,
      scenarioName: src.filename,
      scenarioSha256: src.sha256,
    };
  }

  private outcomeOf(src: Source): {
    ok: boolean;
    expectations: { passed: number; failed: number };
    error: RunSummary['error'];
  } {
    if (src.kind === 'run' && src.summary) {
      const s = src.summary;
      const error = s.error
        ? {
            message: s.error.message,
            ...(s.error.line !== undefined ? { line: s.error.line } : {}),
            ...(s.error.column !== undefined ? { column: s.error.column } : {}),
            kind: s.error.kind,
          }
        : null;
      return { ok: s.ok, expectations: { ...s.expectations }, error };
    }
    const expectations = { passed: 0, failed: 0 };
    for (const e of src.events) if (e.kind === 'expect') expectations[e.ok ? 'passed' : 'failed']++;
    const error = src.kind === 'run' ? { message: `the run is still ${src.status}`, kind: 'running' } : null;
    return { ok: error === null && expectations.failed === 0, expectations, error };
  }

  private async execute(src: RunSource): Promise<void> {
    src.status = 'running';
    this.opts.onRunBegin?.(src.id);
    const t0 = performance.now();
    let batch: EventRow[] = [];
    const conv = new EventRows();
    let last = t0;
    const flush = (): void => {
      last = performance.now();
      if (!batch.length) return;
      const rows = batch;
      batch = [];
      this.opts.emit('run.events', { source: src.id, rows });
    };
    // while the runner awaits (between synchronous stretches), a timer sends what has accumulated
    const timer = setInterval(() => {
      if (performance.now() - last >= BATCH_MS) flush();
    }, BATCH_MS / 5);
    let summary: RunSummary;
    try {
      // stopped while queued: do not start it at all
      if (Atomics.load(this.flagOf(src.id), 0) !== 0) throw new Cancelled();
      const r = await (this.opts.runner ?? runScenario)({
        source: src.text,
        filename: src.filename,
        kernel: src.kernel,
        cancelFlag: this.flagOf(src.id),
        // a scenario that computes without calling the API blocks this thread: its interrupt checks still
        // send what was recorded, so the rows before a long loop appear while it spins
        onTick: () => {
          if (batch.length && performance.now() - last >= BATCH_MS) flush();
        },
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
        ...(this.opts.memoryLimitBytes !== undefined ? { memoryLimitBytes: this.opts.memoryLimitBytes } : {}),
        ...(this.opts.maxEvents !== undefined ? { maxEvents: this.opts.maxEvents } : {}),
        events: src.events, // the session records into the source's log
        onEvent: (e: RunEvent) => {
          src.timeline.push(e);
          batch.push(conv.row(e));
          if (batch.length >= BATCH_ROWS || performance.now() - last >= BATCH_MS) flush();
        },
      });
      // Stop that lands while the sandbox is still being set up surfaces as an "interrupted" runtime error
      const stoppedEarly =
        r.error?.kind === 'runtime' &&
        /\binterrupted\b/.test(r.error.message) &&
        Atomics.load(this.flagOf(src.id), 0) !== 0;
      summary = {
        source: src.id,
        ok: r.ok,
        expectations: { ...r.expectations },
        events: src.events.length,
        peakLockedVm: { ...r.peakLockedVm },
        error: stoppedEarly
          ? { message: 'the run was stopped', kind: 'cancelled' }
          : r.error
            ? {
                message: r.error.message,
                kind: r.error.kind,
                ...(r.error.line !== null ? { line: r.error.line } : {}),
                ...(r.error.column !== null ? { column: r.error.column } : {}),
              }
            : null,
        durationMs: Math.round(performance.now() - t0),
        ...pinOf(r.session),
      };
    } catch (e) {
      if (e instanceof Cancelled) {
        summary = {
          source: src.id,
          ok: false,
          expectations: { passed: 0, failed: 0 },
          events: 0,
          peakLockedVm: {},
          error: { message: 'the run was stopped before it started', kind: 'cancelled' },
          durationMs: 0,
        };
      } else {
        // a bug below the runner's own error handling: the run failed, the worker carries on
        const expectations = { passed: 0, failed: 0 };
        for (const x of src.events) if (x.kind === 'expect') expectations[x.ok ? 'passed' : 'failed']++;
        summary = {
          source: src.id,
          ok: false,
          expectations,
          events: src.events.length,
          peakLockedVm: {},
          error: {
            message: `internal error: ${e instanceof Error ? e.message : String(e)}`,
            kind: 'internal',
          },
          durationMs: Math.round(performance.now() - t0),
        };
      }
    } finally {
      clearInterval(timer);
      flush();
    }
    src.status = 'done';
    src.summary = summary;
    this.sources.trim();
    this.opts.emit('run.done', summary);
  }
}

class Cancelled extends Error {}

function eventAt(src: Source, seq: number): RunEvent | undefined {
  const evs = src.events;
  if (seq >= 1 && seq <= evs.length && evs.seqAt(seq - 1) === seq) return evs.at(seq - 1);
  let lo = 0;
  let hi = evs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = evs.seqAt(mid);
    if (s === seq) return evs.at(mid);
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** a file-name-safe stem for exports: the scenario's file name without .ts */
function stemOf(src: Source): string {
  const name = src.kind === 'run' ? src.filename : src.meta.scenarioName;
  const stem = (name.split(/[\\/]/).pop() ?? 'scenario')
    .replace(/\.ts$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 80);
  return stem || 'scenario';
}

/** errors whose message is meant for the user (everything else is reported as an internal error) */
export function isUserError(e: unknown): e is Error {
  return e instanceof ServiceError || e instanceof SourceError || e instanceof SnapshotError;
}

/** the first createHost({ kernel }) of a run, for labels that must name the profile that really ran */
export function pinOf(
  session: { pinned?: readonly { kernel: string; line: number | undefined }[] } | undefined,
): {
  pinned?: { kernel: string; line?: number };
} {
  const p = session?.pinned?.[0];
  return p ? { pinned: { kernel: p.kernel, ...(p.line !== undefined ? { line: p.line } : {}) } } : {};
}
