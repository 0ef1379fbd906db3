/**
 * The worker side of cli/sandboxed.ts: runs `dmawb run` (cli/main.ts runCommand) and posts its output,
 * when each scenario starts and ends running, and the exit code. Started through host/worker-dev.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RunArgs } from './args.ts';
import { runCommand } from './main.ts';
import type { RunWorkerMessage } from './sandboxed.ts';

const port = parentPort;
if (!port) throw new Error('cli/run-worker.ts must run in a worker thread');
const post = (m: RunWorkerMessage): void => port.postMessage(m);
const code = await runCommand(
  (workerData as { args: RunArgs }).args,
  { stdout: (text) => post({ type: 'out', text }), stderr: (text) => post({ type: 'err', text }) },
  (running) => post({ type: 'scenario', running }),
);
post({ type: 'exit', code });
