// Runs one scenario through runScenario in a worker thread (as the workbench does), with the cancel flag
// the parent passes; posts the result's error back. Used by run.test.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runScenario } = await import('../../runner/run.ts');
parentPort.postMessage({ started: true });
const r = await runScenario({
  source: workerData.source,
  filename: 'loop.ts',
  cancelFlag: workerData.flag,
  timeoutMs: 20_000,
});
parentPort.postMessage({ error: r.error, events: r.events.length });
