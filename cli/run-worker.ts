/**
 * The worker side of cli/sandboxed.ts: runs `dmawb run` or `dmawb size` (cli/main.ts runCommand,
 * sizeCommand) and posts its output,
 * when each scenario starts and ends running, and the exit code. Started through host/worker-dev.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCommand, sizeCommand } from './main.ts';
import type { RunWorkerMessage, SandboxedJob } from './sandboxed.ts';

const port = parentPort;
if (!port) throw new Error('cli/run-worker.ts must run in a worker thread');
const post = (m: RunWorkerMessage): void => port.postMessage(m);
const job = (workerData as { job: SandboxedJob }).job;
const io = {
  stdout: (text: string) => post({ type: 'out', text }),
  stderr: (text: string) => post({ type: 'err', text }),
};
const phase = (running: boolean) => post({ type: 'scenario', running });
const code =
  job.command === 'size' ? await sizeCommand(job.args, io, phase) : await runCommand(job.args, io, phase);
post({ type: 'exit', code });
