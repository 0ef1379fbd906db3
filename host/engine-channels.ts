/**
 * Which request channels the engine worker answers, and how Stop reaches a run through shared memory.
 * A leaf module: the main process imports this without loading the engine or the runner.
 */
import type { RequestChannel } from '../common/contract.ts';

/** The request channels answered by the engine (the rest are answered by main: files, dialogs, app info). */
export const ENGINE_CHANNELS = [
  'run.start',
  'run.stop',
  'inspect.event',
  'inspect.rows',
  'inspect.search',
  'inspect.state',
  'inspect.entries',
  'inspect.occupancy',
  'inspect.find',
  'inspect.lockedVm',
  'export.snapshot',
  'export.report',
  'export.csv',
  'export.c',
  'snapshot.import',
  'inspect.compare',
  'run.compare',
  'capture.import',
  'memlock.size',
] as const satisfies readonly RequestChannel[];
export type EngineChannel = (typeof ENGINE_CHANNELS)[number];

export function isEngineChannel(c: string): c is EngineChannel {
  return (ENGINE_CHANNELS as readonly string[]).includes(c);
}

/** Per-run cancel flags in the shared buffer: run n uses slot n % RUN_SLOTS. */
const RUN_SLOTS = 64;
/** and memlock sizing jobs ("size-n", memlock.size) slot RUN_SLOTS + n % SIZE_SLOTS */
const SIZE_SLOTS = 8;
export const CANCEL_SLOTS = RUN_SLOTS + SIZE_SLOTS;

/** the cancel slot of a run id ("run-7" → 7 % 64) or a sizing job's ("size-2" → 66), or -1 for anything else */
export function cancelSlotOf(source: string): number {
  const m = /^(run|size)-(\d+)$/.exec(source);
  if (!m) return -1;
  return m[1] === 'run' ? Number(m[2]) % RUN_SLOTS : RUN_SLOTS + (Number(m[2]) % SIZE_SLOTS);
}
