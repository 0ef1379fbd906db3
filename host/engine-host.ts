/**
 * The engine host (main thread): owns the engine worker (host/worker.ts) and speaks to it with request
 * ids; forwards the worker's events to listeners; stops runs; restarts the worker when it dies.
 *
 * - Stop: the host sets the run's flag in a SharedArrayBuffer that the sandbox's interrupt handler reads,
 *   so Stop works while the worker is busy in a synchronous QuickJS loop. If the run has not ended 1 s
 *   later, the worker is terminated and restarted.
 * - Death: if the worker exits or throws, every pending request gets an explicit error reply, every
 *   unfinished run gets a 'run.done' with an error, listeners get 'engine.restarted' with the reason, and
 *   a new worker starts. The worker holds only runs and imported snapshots; the user's scenario text lives
 *   in the renderer and the workspace folder, so nothing they typed is lost.
 *
 * Electron-free: used by the desktop main process and by the browser-mode server alike.
 */
import { join } from 'node:path';
import { totalmem } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { EventChannel, Events, Reply, RunSummary } from '../common/contract.ts';
import { CANCEL_SLOTS, cancelSlotOf, type EngineChannel } from './engine-channels.ts';
import type { EngineWorkerData, HostMessage, WorkerMessage } from './worker-protocol.ts';

export type WorkerFactory = (data: EngineWorkerData) => Worker;
export type EngineListener = <E extends EventChannel>(event: E, payload: Events[E]) => void;

/** the built worker next to the built main bundle (out/main/worker.js) */
export function builtWorker(dir: string, limits?: ResourceLimits): WorkerFactory {
  return (data) =>
    new Worker(join(dir, 'worker.js'), { workerData: data, resourceLimits: limits ?? workerLimits() });
}

/**
 * Heap limits of the engine worker. With a limit, a worker that runs out of heap is terminated on its own
 * (ERR_WORKER_OUT_OF_MEMORY) and restarted; without one, V8 would abort the whole process. Half the
 * machine's memory, at most 4 GiB.
 */
export function workerLimits(): ResourceLimits {
  return { maxOldGenerationSizeMb: Math.max(512, Math.min(4096, Math.floor(totalmem() / 2 / 1024 / 1024))) };
}

export interface EngineHostOptions {
  factory: WorkerFactory;
  appVersion?: string;
  /** how long a stopped run may take to end before the worker is restarted (default 1,000 ms) */
  stopGraceMs?: number;
  /** let tests make the worker misbehave */
  testHooks?: boolean;
  /** a run's time budget (default: the runner's, 30 s); see runGraceMs */
  runTimeoutMs?: number;
  /**
   * A run still going this long after its budget is ended from outside: the sandbox stops a scenario
   * between bytecodes and at host calls, but not inside one long built-in or engine call, so the worker
   * is restarted and the run ends as a timeout without anyone pressing Stop (default 1,000 ms).
   */
  runGraceMs?: number;
}

/** the runner's default time budget (runner/sandbox.ts DEFAULT_TIMEOUT_MS) */
const RUN_TIMEOUT_MS = 30_000;

interface Pending {
  channel: EngineChannel;
  resolve: (r: Reply<unknown>) => void;
}

export class EngineHost {
  private worker: Worker | null = null;
  private generation = 0;
  private readonly cancel = new SharedArrayBuffer(CANCEL_SLOTS * 4);
  private readonly flags = new Int32Array(this.cancel);
  private readonly pending = new Map<number, Pending>();
  private readonly outbox: HostMessage[] = [];
  private nextId = 1;
  private readonly listeners = new Set<EngineListener>();
  /** runs started and not done → rows streamed so far */
  private readonly unfinished = new Map<string, { rows: number; passed: number; failed: number }>();
  /** the run the worker is executing right now */
  private executing: string | null = null;
  /** ends the executing run from outside once it is past its budget and the grace */
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private readonly doneWaiters = new Map<string, Set<() => void>>();
  private disposed = false;
  private lastError: string | null = null;
  private recentRestarts: number[] = [];
  /** number of restarts so far (diagnostics, tests) */
  restarts = 0;

  constructor(private readonly opts: EngineHostOptions) {
    this.start();
  }

  /** the run the worker is executing right now, if any */
  get running(): string | null {
    return this.executing;
  }

  /** subscribes to the engine's events (and the host's own 'engine.restarted'); returns the unsubscribe */
  on(fn: EngineListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Sends one validated request to the engine; always resolves with a Reply (errors included).
   * `run.stop` is handled here, not queued behind the run it has to stop.
   */
  request(channel: EngineChannel, payload: unknown): Promise<Reply<unknown>> {
    if (this.disposed) return Promise.resolve(fail('the engine has been shut down'));
    if (channel === 'run.stop') return this.stop((payload as { source: string }).source);
    return this.send(channel, payload);
  }

  /** stops the worker for good; pending requests get an error reply */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const w = this.worker;
    this.worker = null;
    this.generation++;
    this.clearWatchdog();
    this.failPending('the engine was shut down');
    if (w) await w.terminate();
  }

  /** tests only (needs testHooks): make the worker throw, exit, or hang inside a fake run "run-99" */
  misbehaveForTest(action: 'throw' | 'exit' | 'hang-run'): void {
    this.post({ type: 'test', action });
  }

  // ----------------------------------------------------------------------------------------------

  private start(): void {
    const gen = ++this.generation;
    const data: EngineWorkerData = {
      cancel: this.cancel,
      appVersion: this.opts.appVersion ?? '0.0.0',
      testHooks: !!this.opts.testHooks,
      ...(this.opts.runTimeoutMs !== undefined ? { timeoutMs: this.opts.runTimeoutMs } : {}),
    };
    const w = this.opts.factory(data);
    this.worker = w;
    this.lastError = null;
    for (const m of this.outbox.splice(0)) w.postMessage(m);
    w.on('message', (m: WorkerMessage) => {
      if (gen === this.generation) this.onMessage(m);
    });
    w.on('error', (e) => {
      if (gen === this.generation) this.lastError = e instanceof Error ? e.message : String(e);
    });
    w.on('exit', (code) => {
      if (gen !== this.generation || this.disposed) return;
      this.restart(
        this.lastError
          ? `the engine worker crashed: ${this.lastError}`
          : `the engine worker exited with code ${code}`,
      );
    });
  }

  private post(m: HostMessage): void {
    if (this.worker) this.worker.postMessage(m);
    else if (!this.disposed) this.outbox.push(m); // between a crash and the delayed restart
  }

  private send(channel: EngineChannel, payload: unknown): Promise<Reply<unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { channel, resolve });
      this.post({ type: 'request', id, channel, payload });
    });
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'ready':
        return;
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if ((p.channel === 'run.start' || p.channel === 'memlock.size') && m.reply.ok)
          this.unfinished.set((m.reply.value as { source: string }).source, {
            rows: 0,
            passed: 0,
            failed: 0,
          });
        p.resolve(m.reply);
        return;
      }
      case 'run.begin':
        this.executing = m.source;
        this.armWatchdog(m.source);
        return;
      case 'event':
        if (m.event === 'run.events') {
          const ev = m.payload as Events['run.events'];
          const u = this.unfinished.get(ev.source);
          if (u) {
            u.rows += ev.rows.length;
            for (const r of ev.rows) if (r.kind === 'expect') u[r.failed ? 'failed' : 'passed']++;
          }
        } else if (m.event === 'run.done') {
          this.finished((m.payload as RunSummary).source);
        } else if (m.event === 'memlock.done') {
          this.finished((m.payload as Events['memlock.done']).source);
        }
        this.emit(m.event, m.payload);
        return;
    }
  }

  private armWatchdog(source: string): void {
    this.clearWatchdog();
    const budget = this.opts.runTimeoutMs ?? RUN_TIMEOUT_MS;
    const grace = this.opts.runGraceMs ?? 1000;
    const gen = this.generation;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (this.disposed || gen !== this.generation || this.executing !== source) return;
      this.restart(
        `${source} ran past its time budget of ${budget / 1000} s (inside one long built-in or engine call, where the sandbox cannot stop it), so the engine worker was restarted`,
        'timeout',
      );
    }, budget + grace);
    this.watchdog.unref?.();
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private finished(source: string): void {
    this.unfinished.delete(source);
    if (this.executing === source) {
      this.executing = null;
      this.clearWatchdog();
    }
    const ws = this.doneWaiters.get(source);
    this.doneWaiters.delete(source);
    for (const f of ws ?? []) f();
  }

  private emit<E extends EventChannel>(event: E, payload: Events[E]): void {
    for (const fn of this.listeners) {
      try {
        fn(event, payload);
      } catch {
        // a failing listener must not take the host down
      }
    }
  }

  private async stop(source: string): Promise<Reply<unknown>> {
    const slot = cancelSlotOf(source);
    const active = this.executing === source || this.unfinished.has(source);
    if (slot < 0 || !active) return this.send('run.stop', { source });
    Atomics.store(this.flags, slot, 1);
    if (this.executing !== source) return { ok: true, value: { stopped: true } }; // queued: ends as soon as it starts
    const grace = this.opts.stopGraceMs ?? 1000;
    const ended = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.doneWaiters.get(source)?.delete(done);
        resolve(false);
      }, grace);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      if (!this.doneWaiters.has(source)) this.doneWaiters.set(source, new Set());
      this.doneWaiters.get(source)!.add(done);
    });
    if (!ended && !this.disposed && this.executing === source) {
      this.restart(
        `${source} did not stop within ${grace} ms of Stop, so the engine worker was restarted`,
        'cancelled',
      );
    }
    return { ok: true, value: { stopped: true } };
  }

  /** replaces the worker: errors for pending requests, run.done for unfinished runs, 'engine.restarted' */
  private restart(reason: string, kind: 'crashed' | 'cancelled' | 'timeout' = 'crashed'): void {
    this.clearWatchdog();
    const old = this.worker;
    this.worker = null;
    this.generation++; // ignore anything the old worker still says
    if (old) void old.terminate();
    this.failPending(`${reason}. The request was not completed; your files are untouched.`);
    for (const [source, u] of [...this.unfinished]) {
      const what = source.startsWith('size-') ? 'sizing' : 'run';
      const message =
        kind === 'cancelled'
          ? `the ${what} was stopped`
          : kind === 'timeout' && source === this.executing
            ? `time budget exceeded: ${reason}`
            : `the ${what} ended because ${reason}`;
      const errorKind = kind === 'timeout' && source !== this.executing ? 'crashed' : kind;
      if (what === 'sizing') {
        this.emit('memlock.done', { source, sizing: null, error: { message, kind: errorKind } });
        this.finished(source);
        continue;
      }
      this.emit('run.done', {
        source,
        ok: false,
        expectations: { passed: u.passed, failed: u.failed },
        events: u.rows,
        peakLockedVm: {},
        error: { message, kind: errorKind },
        durationMs: 0,
      });
      this.finished(source);
    }
    this.executing = null;
    this.flags.fill(0);
    this.restarts++;
    this.emit('engine.restarted', { reason });
    // a worker that dies at once, again and again, is restarted more slowly
    const now = Date.now();
    this.recentRestarts = [...this.recentRestarts.filter((t) => now - t < 10_000), now];
    if (this.recentRestarts.length > 3) {
      const gen = this.generation;
      setTimeout(() => {
        if (!this.disposed && gen === this.generation && !this.worker) this.start();
      }, 2000).unref();
    } else {
      this.start();
    }
  }

  private failPending(message: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.outbox.length = 0;
    for (const p of all) p.resolve(fail(message));
  }
}

function fail(message: string): Reply<never> {
  return { ok: false, error: { code: 'failed', message } };
}
