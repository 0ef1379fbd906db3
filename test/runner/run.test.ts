/**
 * runScenario with the real engine: the conformance cases give the same events through the sandbox as
 * run directly, events carry their scenario lines, engine errors surface at the call site, and Stop from
 * another thread ends a runaway run within a second.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../engine/api.ts';
import { runScenario } from '../../runner/run.ts';
import { runDirect } from '../support/direct.ts';

const dir = new URL('../conformance/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const kernelOf = (f: string): KernelName =>
  f.includes('-4.2') ? '4.2' : f.includes('-5.x') ? '5.x' : 'mainline';

describe('conformance cases through the sandbox', () => {
  it.each(files)('%s: passes, and the engine sees the same calls as in a direct run', async (file) => {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const r = await runScenario({ source, filename: file, kernel: kernelOf(file) });
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    const direct = runDirect(source, kernelOf(file));
    expect(r.expectations).toEqual(direct.session.expectations);
    const shape = (e: { kind: string; op?: string; ret?: number; label?: string }) =>
      `${e.kind} ${e.op ?? e.label ?? ''} ${e.ret ?? ''}`;
    expect(r.events.map(shape)).toEqual(direct.events.map(shape));
    // every event knows its line in the sandbox
    expect(r.events.filter((e) => e.line === undefined)).toEqual([]);
  });
});

describe('runScenario with the engine', () => {
  it('stamps events with the lines of their calls', async () => {
    const src = [
      'const host = createHost({ kernel: "mainline" });',
      'const G = host.addPhb().addGroup();',
      'const p = host.spawn({ memlock: 16n * GiB });',
      'const C = p.openContainer();',
      'const g = p.openGroup(G);',
      'expectOk(g.setContainer(C));',
      'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), "v2");',
      'log("done");',
    ].join('\n');
    const r = await runScenario({ source: src, filename: 'lines.ts' });
    expect(r.ok).toBe(true);
    expect(r.events.map((e) => `${e.line} ${e.kind} ${'op' in e ? e.op : ''}`)).toEqual([
      '3 action spawn',
      '4 action open',
      '5 action open',
      '6 ioctl VFIO_GROUP_SET_CONTAINER',
      '6 expect ',
      '7 ioctl VFIO_SET_IOMMU',
      '7 expect ',
      '8 log ',
    ]);
  });

  it('uses --kernel for hosts that name no profile', async () => {
    const r = await runScenario({ source: 'expectEq(createHost().kernel, "4.2");', kernel: '4.2' });
    expect(r.ok).toBe(true);
  });

  it("an unsafe number is the engine's ScenarioError, at the line and column of the call", async () => {
    const src = 'const p = createHost().spawn();\nconst R = p.mmap({ size: 0x100000000000000000 });';
    const r = await runScenario({ source: src, filename: 'unsafe.ts' });
    expect(r.error?.kind).toBe('runtime');
    expect(r.error?.message).toMatch(
      /^ScenarioError: mmap: size = .* is not a safe integer: write it as a bigint literal/,
    );
    expect(r.error?.line).toBe(2);
    expect(r.error?.column).toBe(17); // QuickJS points at the call's parenthesis
  });

  it("the engine's event budget ends the run with a memory error", async () => {
    const src = 'const p = createHost().spawn();\nfor (;;) p.memlock = 1n << 30n;';
    const r = await runScenario({ source: src, maxEvents: 50 });
    expect(r.error).toMatchObject({ kind: 'memory', line: 2 });
    expect(r.error?.message).toMatch(/event budget exceeded/);
    expect(r.events.length).toBe(50);
  });

  it('Stop from another thread (shared flag) ends a runaway loop in a worker', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL('./cancel-worker.mjs', import.meta.url), {
      workerData: { source: 'createHost();\nwhile (true) { Math.max(1, 2) }', flag },
    });
    try {
      const result = await new Promise<{ error: { kind: string }; stoppedAfterMs: number }>(
        (resolve, reject) => {
          let stopAt = 0;
          worker.on('message', (m: { started?: boolean; error?: { kind: string } }) => {
            if (m.started) {
              setTimeout(() => {
                stopAt = performance.now();
                Atomics.store(flag, 0, 1);
              }, 300);
            } else resolve({ error: m.error!, stoppedAfterMs: performance.now() - stopAt });
          });
          worker.on('error', reject);
        },
      );
      // cancelled, not the 30 s time budget: the flag ended it (no wall-clock bound, which flakes under load)
      expect(result.error.kind).toBe('cancelled');
      console.log(`Stop from another thread: ${result.stoppedAfterMs.toFixed(1)} ms`);
    } finally {
      await worker.terminate();
    }
  });
});
