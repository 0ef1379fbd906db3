/**
 * Issue 12 in the workbench's engine host (real worker thread): an expired time budget ends a run without
 * anyone pressing Stop, even inside a loop of slow built-ins the sandbox cannot interrupt, and an async
 * failure is ok:false with its error, never a pass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../common/contract.ts';
import { EngineHost } from '../../host/engine-host.ts';
import { sourceWorker } from '../../host/worker-source.ts';

const hosts: EngineHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.dispose()));
});

function host(opts: { runTimeoutMs?: number; runGraceMs?: number } = {}) {
  const h = new EngineHost({ factory: sourceWorker(), appVersion: '1.2.3', ...opts });
  hosts.push(h);
  const done = new Map<string, RunSummary>();
  const restarts: string[] = [];
  h.on((event, payload) => {
    if (event === 'run.done') done.set((payload as RunSummary).source, payload as RunSummary);
    if (event === 'engine.restarted') restarts.push((payload as { reason: string }).reason);
  });
  const doneOf = async (source: string, timeoutMs = 30_000): Promise<RunSummary> => {
    const end = Date.now() + timeoutMs;
    while (!done.has(source)) {
      if (Date.now() > end) throw new Error(`no run.done for ${source}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return done.get(source)!;
  };
  return { h, doneOf, restarts, done };
}

describe('the workbench ends runs that fail or overrun on their own', () => {
  it('a loop of slow built-ins ends at its budget plus the grace as a timeout, without Stop', async () => {
    const { h, doneOf, restarts, done: all } = host({ runTimeoutMs: 500, runGraceMs: 500 });
    const start = await h.request('run.start', {
      source: 'for (;;) String((1n << 60000n) - 1n);\n',
      filename: 'slow.ts',
      kernel: 'mainline',
    });
    expect(start).toEqual({ ok: true, value: { source: 'run-1' } });
    const done = await doneOf('run-1');
    expect(done.ok).toBe(false);
    expect(done.error).toMatchObject({
      kind: 'timeout',
      message: expect.stringMatching(/time budget exceeded/),
    });
    expect(restarts).toHaveLength(1);
    all.clear(); // the new worker numbers its runs from 1 again
    const again = await h.request('run.start', {
      source: 'expectEq(1, 1);',
      filename: 'ok.ts',
      kernel: 'mainline',
    });
    expect(again).toEqual({ ok: true, value: { source: 'run-1' } });
    expect((await doneOf('run-1')).ok).toBe(true);
  });

  it('an exception in an async function is ok:false with the error and its line', async () => {
    const { h, doneOf } = host();
    await h.request('run.start', {
      source: 'async function main() {\n  await null;\n  throw new Error("boom");\n}\nvoid main();\n',
      filename: 'async.ts',
      kernel: 'mainline',
    });
    const done = await doneOf('run-1');
    expect(done.ok).toBe(false);
    expect(done.error).toMatchObject({ message: 'unhandled promise rejection: Error: boom', line: 3 });
  });
});
