/**
 * Runs compiled scenario JavaScript inside QuickJS with the budgets of scenario-api.md §5:
 *
 * - nothing of the host realm is reachable: the guest realm has only ECMAScript builtins plus the prelude's
 *   API (no require, process, timers, file system or network — QuickJS has none of them to begin with);
 * - CPU: an interrupt handler stops the run at its deadline (default 30 s) or as soon as it is cancelled
 *   (AbortSignal in this thread, or a SharedArrayBuffer flag set from another thread). QuickJS polls it
 *   about every 70 µs of busy guest code, and the interruption cannot be caught by the scenario;
 * - memory: the WebAssembly memory has a hard maximum (quickjs.ts), plus QuickJS's own limit and a maximum
 *   stack size;
 * - every QuickJS handle created here is disposed, so the runtime's leak assertions stay quiet.
 *
 * Errors come back as `file:line:column` of the original .ts file (positions.ts).
 */
import type {
  QuickJSContext,
  QuickJSHandle,
  QuickJSRuntime,
  QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import type { Bridge } from './bridge.ts';
import { encodeError } from './codec.ts';
import { codePointToUtf16Column, lineText } from './positions.ts';
import { instrument } from './instrument.ts';
import { PRELUDE_FILE, SCENARIO_FILE, preludeSource } from './prelude.ts';
import { installHostCall, isWasmFailure, loadQuickJS } from './quickjs.ts';

export type ErrorKind = 'compile' | 'runtime' | 'timeout' | 'memory' | 'cancelled';

export interface RunError {
  message: string;
  line: number | null;
  column: number | null;
  kind: ErrorKind;
}

export interface SandboxOptions {
  /** CPU budget of the whole run (default 30 s) */
  timeoutMs?: number;
  /** guest heap budget (default 256 MiB) */
  memoryLimitBytes?: number;
  /** guest stack budget (default 256 KiB: recursion about 1,300 plain calls deep) */
  maxStackBytes?: number;
  /** Stop from this thread (e.g. an onEvent callback, or an AbortController in the same worker) */
  signal?: AbortSignal;
  /** Stop from another thread: an Int32Array on a SharedArrayBuffer; non-zero element 0 = stop */
  cancelFlag?: Int32Array;
  /** a precompiled QuickJS .wasm module (see quickjs.ts) */
  wasmModule?: WebAssembly.Module;
  /** call-site lines from instrument.ts's marks (default) or, when false, from stack traces */
  lineMarks?: boolean;
  /**
   * called from the interrupt handler (about every 70 µs of busy guest code) while the scenario runs: the
   * only chance this thread has to do anything while a scenario computes without calling the API (the
   * engine worker sends the events recorded so far from here). Must be quick and must not throw.
   */
  onTick?: () => void;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_MAX_STACK = 256 * 1024;

export interface SandboxReport {
  error: RunError | null;
  /** whether hostCall used the direct FFI path (quickjs.ts) */
  fastPath: boolean;
  /** false if QuickJS could not be torn down normally (the WebAssembly instance is discarded either way) */
  disposedCleanly: boolean;
  /** where call-site lines came from (instrument.ts marks, or stack traces as the fallback) */
  lines: 'marks' | 'stack';
}

/** `js` must be compile.ts output for `source` (same positions). */
export async function runInSandbox(
  js: string,
  source: string,
  bridge: Bridge,
  opts: SandboxOptions = {},
): Promise<SandboxReport> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const memoryLimitBytes = opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
  const maxStackBytes = opts.maxStackBytes ?? DEFAULT_MAX_STACK;
  const qjs: QuickJSWASMModule = await loadQuickJS({
    memoryLimitBytes,
    ...(opts.wasmModule ? { wasmModule: opts.wasmModule } : {}),
  });

  let stop: 'timeout' | 'cancelled' | 'fatal' | null = null;
  let outOfMemory = false;
  // the budget is the scenario's: the clock starts when it starts running (after compiling and setup)
  let deadline = Infinity;
  const shouldStop = (): boolean => {
    if (stop) return true;
    if (bridge.fatal || outOfMemory) stop = 'fatal';
    else if (opts.signal?.aborted || (opts.cancelFlag && Atomics.load(opts.cancelFlag, 0) !== 0))
      stop = 'cancelled';
    else if (performance.now() > deadline) stop = 'timeout';
    return stop !== null;
  };

  const rt: QuickJSRuntime = qjs.newRuntime();
  rt.setMemoryLimit(memoryLimitBytes);
  rt.setMaxStackSize(maxStackBytes);
  const onTick = opts.onTick;
  rt.setInterruptHandler(
    onTick
      ? () => {
          try {
            onTick();
          } catch {
            // a failing tick must not stop or break the run
          }
          return shouldStop();
        }
      : shouldStop,
  );
  const ctx = rt.newContext();
  // The budgets are checked on every host call too, not only between bytecodes: a loop whose time goes
  // into host calls (or one long call) stops at the first call after the deadline. The guest gets an
  // error there, and the interrupt handler, which now answers yes, ends the run at its next check.
  const host = installHostCall(
    ctx,
    (op, id, payload, site, fields) =>
      shouldStop()
        ? encodeError(true, 'InternalError', 'the run is being stopped')
        : bridge.call(op, id, payload, site, fields),
    () => {
      outOfMemory = true;
    },
  );

  const budgetError = (at: Location | null): RunError => {
    const loc = { line: at?.line ?? null, column: at?.column ?? null };
    if (stop === 'cancelled') return { kind: 'cancelled', message: 'the run was stopped', ...loc };
    if (stop === 'timeout')
      return {
        kind: 'timeout',
        message:
          `time budget exceeded: the scenario ran for more than ${formatSeconds(timeoutMs)}` +
          (loc.line === null ? '' : ` (stopped at line ${loc.line})`),
        ...loc,
      };
    if (bridge.fatal) {
      // where the fatal call was made: the error thrown there carries the column too, if it got this far
      const f = bridge.fatal;
      const here = at && (f.line === null || at.line === f.line) ? at : null;
      return { kind: f.kind, message: f.message, line: here?.line ?? f.line, column: here?.column ?? null };
    }
    return {
      kind: 'memory',
      message: `memory budget exceeded: the scenario used more than ${formatBytes(memoryLimitBytes)}`,
      ...loc,
    };
  };

  let error: RunError | null = null;
  let poisoned = false;
  let prelude: Prelude | undefined;
  let lines: 'marks' | 'stack' = 'stack';
  try {
    const plan = planRun(ctx, js, source, opts.lineMarks !== false);
    if ('error' in plan) {
      // a Stop while the scenario was being parsed interrupts the parse: that is the Stop, not a compile error
      error = stop ? budgetError(null) : plan.error;
    } else {
      lines = plan.marks ? 'marks' : 'stack';
      prelude = installPrelude(ctx, host.handle, plan.marks);
      deadline = performance.now() + timeoutMs;
      const ran = evaluate(ctx, rt, plan.js, shouldStop, prelude);
      if (ran.jobsLeft) poisoned = true; // stopped with jobs queued: QuickJS cannot be freed cleanly
      const thrown = ran.thrown;
      if (thrown) {
        const e = describeThrown(ctx, thrown, plan.position, prelude.formatter);
        thrown.dispose();
        if (shouldStopAfter(stop, bridge, outOfMemory)) error = budgetError(stoppedAt(ctx, e.at, prelude));
        else if (e.kind)
          error = {
            ...budgetFor(e.kind, memoryLimitBytes, maxStackBytes),
            line: e.at?.line ?? null,
            column: e.at?.column ?? null,
          };
        else
          error = {
            kind: 'runtime',
            message: ran.unhandled ? `unhandled promise rejection: ${e.message}` : e.message,
            line: e.at?.line ?? null,
            column: e.at?.column ?? null,
          };
      } else if (shouldStopAfter(stop, bridge, outOfMemory)) {
        // Stop, the time budget or a fatal call inside a promise job (the async machinery turns the
        // interruption into a rejection), or the scenario caught the error of a fatal call and finished
        // anyway: the run still failed
        error = budgetError(stoppedAt(ctx, null, prelude));
      }
    }
  } catch (e) {
    // An exception from inside WebAssembly (V8's own stack limit, an emscripten abort): the instance is
    // unusable. Report it and drop the instance without touching it again.
    poisoned = isWasmFailure(e);
    const stackOverflow = e instanceof RangeError && /call stack/i.test(e.message);
    // a Stop while the prelude was being installed interrupts it (QuickJS's 'interrupted' surfaces here)
    error =
      stop && !poisoned
        ? budgetError(null)
        : stackOverflow
          ? {
              kind: 'memory',
              message: `stack overflow: the scenario nests too deeply (host stack exhausted)`,
              line: null,
              column: null,
            }
          : {
              kind: 'runtime',
              message: `internal error in the sandbox: ${e instanceof Error ? e.message : String(e)}`,
              line: null,
              column: null,
            };
  }

  let disposedCleanly = !poisoned;
  if (!poisoned) {
    try {
      rt.removeInterruptHandler();
      prelude?.formatter.dispose();
      prelude?.state.dispose();
      prelude?.firstUnhandled.dispose();
      host.handle.dispose();
      ctx.dispose();
      rt.dispose();
    } catch {
      disposedCleanly = false;
    }
  }
  return { error, fastPath: host.fast, disposedCleanly, lines };
}

/** QuickJS position (line, code-point column) → original source position */
type PositionMap = (line: number, codePointColumn: number) => Location;

/**
 * What to run: the scenario with call-site marks (instrument.ts) when that compiles, else the scenario
 * as written, with call sites from the stack. A syntax error of the scenario itself is a compile error
 * (parsed before anything runs, so it is never reported as a runtime error).
 */
function planRun(
  ctx: QuickJSContext,
  js: string,
  source: string,
  useMarks: boolean,
): { js: string; marks: boolean; position: PositionMap } | { error: RunError } {
  const marked = useMarks ? instrument(js) : null;
  if (marked) {
    const r = ctx.evalCode(marked.js, SCENARIO_FILE, { type: 'global', strict: true, compileOnly: true });
    if (!r.error) {
      r.value.dispose();
      return {
        js: marked.js,
        marks: true,
        position: (line, col) => ({
          line,
          column: marked.map.toOriginal(line, codePointToUtf16Column(lineText(marked.js, line), col)),
        }),
      };
    }
    r.error.dispose();
  }
  const position: PositionMap = (line, col) => ({
    line,
    column: codePointToUtf16Column(lineText(source, line), col),
  });
  const r = ctx.evalCode(js, SCENARIO_FILE, { type: 'global', strict: true, compileOnly: true });
  if (r.error) {
    const e = describeThrown(ctx, r.error, position);
    r.error.dispose();
    return {
      error: { kind: 'compile', message: e.message, line: e.at?.line ?? null, column: e.at?.column ?? null },
    };
  }
  r.value.dispose();
  return { js, marks: false, position };
}

function shouldStopAfter(stop: string | null, bridge: Bridge, outOfMemory: boolean): boolean {
  return stop !== null || bridge.fatal !== null || outOfMemory;
}

function budgetFor(
  kind: 'memory' | 'stack',
  memoryLimitBytes: number,
  maxStackBytes: number,
): { kind: ErrorKind; message: string } {
  return kind === 'memory'
    ? {
        kind: 'memory',
        message: `memory budget exceeded: the scenario used more than ${formatBytes(memoryLimitBytes)}`,
      }
    : {
        kind: 'memory',
        message: `stack overflow: recursion deeper than the scenario stack budget (${formatBytes(maxStackBytes)})`,
      };
}

interface Prelude {
  /** describes a thrown value that is not an Error */
  formatter: QuickJSHandle;
  /** { line, loop, loopColumn }: the line of the last marked call or loop entry; the last loop entry */
  state: QuickJSHandle;
  /** () → { reason } of the first unhandled promise rejection, or undefined */
  firstUnhandled: QuickJSHandle;
}

/** Installs the API globals; returns the prelude's handles for the runner (to be disposed). */
function installPrelude(ctx: QuickJSContext, hostCall: QuickJSHandle, lineMarks: boolean): Prelude {
  const fn = ctx.unwrapResult(
    ctx.evalCode(preludeSource({ lineMarks }), PRELUDE_FILE, { type: 'global', strict: true }),
  );
  try {
    const pair = ctx.unwrapResult(ctx.callFunction(fn, ctx.undefined, hostCall));
    const out = {
      formatter: ctx.getProp(pair, 0),
      state: ctx.getProp(pair, 1),
      firstUnhandled: ctx.getProp(pair, 2),
    };
    pair.dispose();
    return out;
  } finally {
    fn.dispose();
  }
}

/**
 * Where a stopped scenario was. QuickJS reports the innermost scenario frame's last recorded position:
 * exact inside a call or after a comparison, but a loop interrupted at its back edge reports the last
 * position before the loop (the start of the script is 1:1). instrument.ts marks every loop body written
 * as a block: when the last mark was a loop entry (no call since) and QuickJS's position is not further
 * down, the scenario was still in that loop, and its line is the answer. Without marks, 1:1 falls back to
 * the line of the last marked call (no column: it is the line of a call, not of the loop).
 */
function stoppedAt(ctx: QuickJSContext, at: Location | null, prelude: Prelude): Location | null {
  const read = (name: string): number => {
    const h = ctx.getProp(prelude.state, name);
    const n = ctx.typeof(h) === 'number' ? ctx.getNumber(h) : 0;
    h.dispose();
    return n;
  };
  const last = read('line');
  const loop = read('loop');
  if (loop > 0 && loop === last && (!at || at.line <= loop)) {
    const column = read('loopColumn');
    return { line: loop, column: column > 0 ? column : null };
  }
  if (at && !(at.line === 1 && at.column === 1)) return at;
  return last > 0 ? { line: last, column: null } : at;
}

interface Evaluated {
  /** the uncaught error (or the first unhandled rejection's reason), if any */
  thrown?: QuickJSHandle;
  /** `thrown` is the reason of a promise rejection no handler took */
  unhandled?: boolean;
  /** the run was stopped with promise jobs still queued */
  jobsLeft?: boolean;
}

/** jobs run between checks of the budgets from the host side */
const JOB_BATCH = 1024;

/**
 * Runs the scenario and then its pending promise jobs (async functions, promise callbacks) within the same
 * budgets, until none is left or the run is stopped; then asks the prelude for a rejection nobody handled.
 */
function evaluate(
  ctx: QuickJSContext,
  rt: QuickJSRuntime,
  js: string,
  shouldStop: () => boolean,
  prelude: Prelude,
): Evaluated {
  const r = ctx.evalCode(js, SCENARIO_FILE, { type: 'global', strict: true });
  if (r.error) return { thrown: r.error };
  r.value.dispose();
  while (rt.hasPendingJob()) {
    if (shouldStop()) return { jobsLeft: true };
    const jobs = rt.executePendingJobs(JOB_BATCH);
    if (jobs.error) return { thrown: jobs.error, jobsLeft: rt.hasPendingJob() };
    jobs.dispose();
  }
  if (shouldStop()) return {};
  const first = ctx.callFunction(prelude.firstUnhandled, ctx.undefined);
  if (first.error) return { thrown: first.error };
  if (ctx.typeof(first.value) !== 'object') {
    first.value.dispose(); // undefined: every rejection was handled
    return {};
  }
  const reason = ctx.getProp(first.value, 'reason');
  first.value.dispose();
  return { thrown: reason, unhandled: true };
}

interface Location {
  line: number;
  column: number | null;
}

interface Described {
  message: string;
  at: Location | null;
  /** QuickJS's own budget errors */
  kind?: 'memory' | 'stack';
}

/** Message and scenario position of an uncaught guest value. */
function describeThrown(
  ctx: QuickJSContext,
  err: QuickJSHandle,
  position: PositionMap,
  formatter?: QuickJSHandle,
): Described {
  let v: unknown;
  try {
    v = ctx.dump(err);
  } catch {
    v = undefined;
  }
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { message?: unknown }).message === 'string' &&
    typeof (v as { stack?: unknown }).stack === 'string'
  ) {
    const { name, message, stack } = v as { name?: unknown; message: string; stack: string };
    const at = scenarioFrame(stack, position);
    if (name === 'InternalError' && message === 'out of memory') return { message, at, kind: 'memory' };
    if (name === 'InternalError' && message === 'stack overflow') return { message, at, kind: 'stack' };
    return { message: `${typeof name === 'string' && name ? name : 'Error'}: ${message}`, at };
  }
  // not an Error: let the prelude say what it is (guest code, still under the interrupt handler)
  let text = '[unprintable value]';
  try {
    if (!formatter) throw new Error('no formatter');
    const r = ctx.callFunction(formatter, ctx.undefined, err);
    if (r.error) r.error.dispose();
    else {
      const t = ctx.dump(r.value);
      r.value.dispose();
      if (typeof t === 'string') text = t.length > 1000 ? `${t.slice(0, 1000)}…` : t;
    }
  } catch {
    // keep the placeholder
  }
  return { message: `uncaught exception: ${text}`, at: null };
}

/** The innermost stack frame in the scenario file, as a position in the original source. */
function scenarioFrame(stack: string, position: PositionMap): Location | null {
  const m = new RegExp(`(?:\\(|at )${SCENARIO_FILE}:(\\d+):(\\d+)`).exec(stack);
  return m ? position(Number(m[1]), Number(m[2])) : null;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
