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
import { Session } from '../engine/session.ts';
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
}

export async function runScenario(opts: RunOptions): Promise<RunResult<Session>> {
  const session = new Session({
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
    ...(opts.onEvent !== undefined ? { onEvent: opts.onEvent } : {}),
    ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
    ...(opts.tableMemoryBytes !== undefined ? { tableMemoryBytes: opts.tableMemoryBytes } : {}),
    ...(opts.events !== undefined ? { events: opts.events } : {}),
  });
  return executeScenario(session, opts);
}
