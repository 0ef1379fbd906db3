/**
 * Starts the engine worker from source through tsx (host/worker-dev.mjs): browser mode and tests. Kept
 * out of engine-host.ts so that the desktop bundle never references the TypeScript sources.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { workerLimits, type WorkerFactory } from './engine-host.ts';

export function sourceWorker(limits?: ResourceLimits): WorkerFactory {
  const bootstrap = new URL('./worker-dev.mjs', import.meta.url);
  return (data) => new Worker(bootstrap, { workerData: data, resourceLimits: limits ?? workerLimits() });
}
