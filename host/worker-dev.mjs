// Starts the engine worker from source (browser mode and tests): registers tsx in this worker thread,
// then loads host/worker.ts (or workerData.entry). The desktop app runs the built out/main/worker.js
// instead. Plain JavaScript on purpose: it has to run before anything can compile TypeScript.
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.node.json', import.meta.url)) });
await import(workerData?.entry ?? new URL('./worker.ts', import.meta.url).href);
