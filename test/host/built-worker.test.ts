/**
 * The desktop app runs the engine from the bundle electron-vite builds (out/main/worker.js), not from the
 * TypeScript sources that browser mode and the other tests use. This builds the app into a temporary
 * folder and runs a conformance scenario through the built worker in plain Node, so a bundling problem
 * (a module or the QuickJS .wasm not found at run time) fails here even without an Electron binary.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../common/contract.ts';
import { builtWorker, EngineHost } from '../../host/engine-host.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
let out = '';
let host: EngineHost | undefined;

beforeAll(() => {
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  // inside the checkout, so that the bundle's bare imports resolve to node_modules as they do from out/
  out = mkdtempSync(join(root, 'node_modules/.cache/dmawb-built-'));
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out],
    {
      cwd: root,
      stdio: 'pipe',
      timeout: 180_000,
    },
  );
}, 200_000);

afterAll(async () => {
  await host?.dispose();
  rmSync(out, { recursive: true, force: true });
});

describe('the built desktop worker', () => {
  it('runs a scenario through the bundled runner and engine', async () => {
    host = new EngineHost({ factory: builtWorker(join(out, 'main')) });
    const done = new Promise<RunSummary>((resolve) => {
      host!.on((event, payload) => {
        if (event === 'run.done') resolve(payload as RunSummary);
      });
    });
    const source = readFileSync(join(root, 'test/conformance/c17-4.2.ts'), 'utf8');
    const started = await host.request('run.start', { source, filename: 'c17-4.2.ts', kernel: '4.2' });
    expect(started).toEqual({ ok: true, value: { source: expect.any(String) } });
    const summary = await done;
    expect(summary.error).toBeNull();
    expect(summary.expectations).toEqual({ passed: 50, failed: 0 });
  }, 60_000);
});
