/**
 * runScenario: the runner's entry point for the command line (cli/) and the workbench's worker.
 *
 *   const r = await runScenario({ source, filename, kernel: '4.2', onEvent })
 *   r.ok, r.expectations, r.events, r.peakLockedVm, r.error ({ message, line, column, kind }), r.session
 *
 * The scenario runs in a QuickJS sandbox (sandbox.ts) against a fresh engine Session.
 */
import type { KernelName } from '../engine/api.ts';
import type { EventStore } from '../engine/event-store.ts';
import type { RunEvent } from '../engine/events.ts';
import { sizeScenario, type SizeReport } from '../engine/memlock.ts';
import { Session, type MemlockPolicy } from '../engine/session.ts';
import { executeScenario, type ExecuteOptions, type RunResult } from './execute.ts';

export type { RunResult, RunError, ErrorKind } from './execute.ts';

export interface RunOptions extends ExecuteOptions {
  /** profile used when createHost() names none (command line --kernel / workbench selector) */
  kernel?: KernelName;
  /** called synchronously for every event as it is recorded */
  onEvent?: (e: RunEvent) => void;
  /** the run ends with a budget error after this many events (engine default: no cap) */
  maxEvents?: number;
  /** host memory for the run's TCE tables (engine default: 1 GiB) */
  tableMemoryBytes?: number;
  /** the store the session records into (the engine worker keeps it as the run's log) */
  events?: EventStore;
  /** memlock sizing: how RLIMIT_MEMLOCK is checked (default: as the kernel does) */
  memlock?: MemlockPolicy;
}

export async function runScenario(opts: RunOptions): Promise<RunResult<Session>> {
  const session = new Session({
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
    ...(opts.onEvent !== undefined ? { onEvent: opts.onEvent } : {}),
    ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
    ...(opts.tableMemoryBytes !== undefined ? { tableMemoryBytes: opts.tableMemoryBytes } : {}),
    ...(opts.events !== undefined ? { events: opts.events } : {}),
    ...(opts.memlock !== undefined ? { memlock: opts.memlock } : {}),
  });
  return executeScenario(session, opts);
}

/**
 * `dmawb size` (scenario-api.md §4.1): the scenario run with RLIMIT_MEMLOCK unchecked, then rerun at each
 * process's minimal limit and one page below (engine/memlock.ts sizeScenario). `onEvent` is not used.
 */
export async function sizeScenarioRun(
  opts: Omit<RunOptions, 'memlock' | 'onEvent'>,
  /** told when each of the runs starts and ends (the command line's deadline watchdog) */
  phase: (running: boolean) => void = () => {},
): Promise<SizeReport> {
  return sizeScenario(async (policy) => {
    const { onEvent: _ignored, ...rest } = opts as RunOptions;
    phase(true);
    const r = await runScenario({ ...rest, memlock: policy });
    phase(false);
    return {
      events: r.events,
      processes: r.session.memlockPeaks(),
      error: r.error && { message: r.error.message, line: r.error.line, column: r.error.column },
    };
  });
}
