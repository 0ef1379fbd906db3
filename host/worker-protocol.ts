/**
 * Messages between the engine host (host/engine-host.ts, main thread) and the engine worker
 * (host/worker.ts). Internal to main: the renderer never sees these; it sees the contract's replies and
 * events, which travel inside them unchanged.
 */
import type { EventChannel, Events, Reply } from '../common/contract.ts';
import type { EngineChannel } from './engine-channels.ts';

/** what the host passes to a new worker */
export interface EngineWorkerData {
  /** CANCEL_SLOTS Int32 flags: the host sets one to stop a run while the worker is busy running it */
  cancel: SharedArrayBuffer;
  appVersion: string;
  /** accept TestMessage (tests only) */
  testHooks: boolean;
  /** a run's time budget (default: the runner's) */
  timeoutMs?: number;
  /** only for the from-source bootstrap (host/worker-dev.mjs): the module to load */
  entry?: string;
}

export type HostMessage =
  | { type: 'request'; id: number; channel: EngineChannel; payload: unknown }
  /** tests only: make the worker misbehave (throw, exit, or hang in a fake run) */
  | { type: 'test'; action: 'throw' | 'exit' | 'hang-run' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'reply'; id: number; reply: Reply<unknown> }
  | { type: 'event'; event: EventChannel; payload: Events[EventChannel] }
  /** a run started executing (until its run.done, Stop may need the 1 s watchdog) */
  | { type: 'run.begin'; source: string };
