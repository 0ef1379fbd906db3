/**
 * Entry of the engine worker (worker_threads): the engine and the scenario runner run here, so a long or
 * runaway run never blocks the window. A thin message loop around EngineService (host/engine-service.ts);
 * the protocol is host/worker-protocol.ts. Built to a stable `out/main/worker.js`; from source (browser
 * mode, tests) it is started through host/worker-dev.mjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Reply } from '../common/contract.ts';
import { EngineService, isEngineChannel, isUserError } from './engine-service.ts';
import type { EngineWorkerData, HostMessage, WorkerMessage } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('host/worker.ts must run in a worker thread');
const data = workerData as EngineWorkerData;
const post = (m: WorkerMessage): void => port.postMessage(m);

const service = new EngineService({
  emit: (event, payload) => post({ type: 'event', event, payload }),
  onRunBegin: (source) => post({ type: 'run.begin', source }),
  cancel: new Int32Array(data.cancel),
  appVersion: data.appVersion,
  ...(data.timeoutMs !== undefined ? { timeoutMs: data.timeoutMs } : {}),
});

port.on('message', (m: HostMessage) => {
  if (m.type === 'test') {
    if (!data.testHooks) return;
    if (m.action === 'throw') throw new Error('test: the engine worker was told to throw');
    if (m.action === 'exit') process.exit(3);
    post({ type: 'run.begin', source: 'run-99' });
    for (;;) {
      // hang-run: a run that ignores Stop, so the host must terminate the worker
    }
  }
  if (m.type !== 'request') return;
  void answer(m.id, m.channel, m.payload).then((reply) => post({ type: 'reply', id: m.id, reply }));
});

async function answer(_id: number, channel: string, payload: unknown): Promise<Reply<unknown>> {
  if (!isEngineChannel(channel))
    return {
      ok: false,
      error: { code: 'unknown-channel', message: `the engine does not answer ${channel}` },
    };
  try {
    return { ok: true, value: await service.handle(channel, payload as never) };
  } catch (e) {
    const message = isUserError(e)
      ? e.message
      : `internal error in the engine (${channel}): ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, error: { code: 'failed', message } };
  }
}

post({ type: 'ready' });
