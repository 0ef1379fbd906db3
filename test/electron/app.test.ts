/**
 * The desktop app end to end: playwright-core's `_electron` launches the built app (under xvfb-run on
 * Linux: `xvfb-run -a npx vitest run test/electron`). The Electron binary cannot be downloaded on every
 * machine, so this suite SKIPS with a message when it is absent. It never loads the `electron` module
 * (that would start a download): the binary is found through node_modules/electron/path.txt, or
 * ELECTRON_EXEC_PATH.
 *
 * It covers what only the real binary can show: launch, a run, the inspector and the graph, an export
 * through the native save dialog (stubbed at the main-process boundary with `app.evaluate`), a menu item
 * reaching the renderer's command registry, and a crashed engine worker being restarted with a notice.
 * test/main/desktop-shell.test.ts checks the same wiring without the binary, under a stand-in `electron`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** the Electron executable, or why there is none */
function findElectron(): { exe: string } | { skip: string } {
  const override = process.env['ELECTRON_EXEC_PATH'];
  if (override)
    return existsSync(override)
      ? { exe: override }
      : { skip: `ELECTRON_EXEC_PATH=${override} does not exist` };
  const pathTxt = join(root, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathTxt))
    return {
      skip: 'the Electron binary is not installed (no node_modules/electron/path.txt; it downloads on first `npm start`)',
    };
  const exe = join(root, 'node_modules', 'electron', 'dist', readFileSync(pathTxt, 'utf8').trim());
  if (!existsSync(exe)) return { skip: `the Electron binary is not installed (${exe} is missing)` };
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    return { skip: 'no display: run this suite under xvfb-run (xvfb-run -a npx vitest run test/electron)' };
  }
  return { exe };
}

const found = findElectron();
if ('skip' in found) console.warn(`test/electron: SKIPPED — ${found.skip}`);

describe.skipIf('skip' in found)('desktop app (Electron)', () => {
  let app: ElectronApplication;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'dmawb-electron-'));

  beforeAll(async () => {
    if (
      !existsSync(join(root, 'out', 'main', 'index.js')) ||
      !existsSync(join(root, 'out', 'renderer', 'index.html'))
    ) {
      const b = spawnSync(
        process.execPath,
        [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'],
        { cwd: root, stdio: 'inherit' },
      );
      if (b.status !== 0) throw new Error('electron-vite build failed');
    }
    const started = performance.now();
    app = await _electron.launch({
      executablePath: (found as { exe: string }).exe,
      // Chromium's OS sandbox cannot start as root in a container; the renderer's own sandbox stays on
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), root],
      env: {
        ...process.env,
        DMAWB_USER_DATA: join(profile, 'userData'),
        DMAWB_WORKSPACE: join(profile, 'scenarios'),
        DMAWB_TEST_HOOKS: '1',
      },
      timeout: 30_000,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    console.log(`test/electron: window loaded ${Math.round(performance.now() - started)} ms after launch`);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('opens one window titled DMA Workbench on the app:// origin', async () => {
    expect(await page.title()).toBe('DMA Workbench');
    expect(page.url()).toBe('app://workbench/index.html');
    expect(app.windows().length).toBe(1);
  });

  it('isolates the page: no Node, only the typed API', async () => {
    const r = await page.evaluate(async () => {
      const w = (globalThis as unknown as { window: unknown }).window as {
        dmawb: Record<string, (req: unknown) => Promise<unknown>>;
        require?: unknown;
        process?: unknown;
      };
      return {
        require: typeof w.require,
        process: typeof w.process,
        keys: Object.keys(w.dmawb).sort(),
        info: await w.dmawb['app.info']!({}),
        bad: await w.dmawb['workspace.read']!({ name: '../../etc/passwd' }),
      };
    });
    expect(r.require).toBe('undefined');
    expect(r.process).toBe('undefined');
    expect(r.keys).toContain('run.start');
    expect(r.keys).not.toContain('invoke');
    expect(r.info).toMatchObject({ ok: true, value: { name: 'DMA Workbench', mode: 'electron' } });
    expect(r.bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('shows the first example in the editor', async () => {
    // the workspace was seeded with the bundled examples, and the editor opens one of them at launch
    const examples = readdirSync(join(root, 'examples'))
      .filter((n) => n.endsWith('.ts'))
      .sort();
    const list = (await page.evaluate(() =>
      (
        (globalThis as unknown as { window: unknown }).window as {
          dmawb: Record<string, (r: unknown) => Promise<unknown>>;
        }
      ).dmawb['workspace.list']!({}),
    )) as { ok: true; value: { folder: string; files: { name: string }[] } };
    expect(list.value.folder).toBe(join(profile, 'scenarios'));
    expect(list.value.files.map((f) => f.name).sort()).toEqual(examples);
    const firstLines = examples.map((n) =>
      readFileSync(join(root, 'examples', n), 'utf8')
        .split('\n')[0]!
        .trim()
        .slice(0, 40),
    );
    const editor = page.locator('.monaco-editor .view-lines').first();
    await editor.waitFor({ state: 'visible', timeout: 15_000 });
    await expect
      .poll(
        async () => {
          const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
          return firstLines.some((l) => text.includes(l));
        },
        { timeout: 15_000 },
      )
      .toBe(true);
  });

  it('runs a scenario: the event log, the TCE inspector and the locked_vm graph fill', async () => {
    await page.click('[data-testid="scenario-list"] >> text=qemu-v2-ddw');
    await page.selectOption('[data-testid="kernel-select"]', 'mainline');
    await page.click('[data-testid="run"]');
    await expect
      .poll(() => page.locator('[data-testid="event-row"]').count(), { timeout: 30_000 })
      .toBeGreaterThan(5);
    await expect
      .poll(() => page.locator('[data-testid="tce-row"].valid').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('[data-testid="lockedvm-graph"] canvas').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
  });

  it('a menu item reaches the renderer and exports through the (stubbed) native save dialog', async () => {
    const target = join(profile, 'exported-snapshot.json');
    // stub the dialog in the main process: the app's own code then writes the file atomically
    await app.evaluate(({ dialog }, filePath) => {
      dialog.showSaveDialog = (async () => ({ canceled: false, filePath })) as typeof dialog.showSaveDialog;
    }, target);
    await app.evaluate(({ Menu }) => {
      const item = Menu.getApplicationMenu()?.getMenuItemById('export.snapshot');
      if (!item) throw new Error('no menu item export.snapshot');
      item.click();
    });
    await expect.poll(() => existsSync(target), { timeout: 15_000 }).toBe(true);
    const snapshot = JSON.parse(readFileSync(target, 'utf8')) as { format?: string; kernel?: string };
    expect(snapshot.format).toBe('dmawb-snapshot');
    expect(snapshot.kernel).toBe('mainline');
  });

  it('restarts a crashed engine worker and tells the user', async () => {
    await app.evaluate(() => {
      const hooks = (globalThis as { __dmawbTest?: { engine: { misbehaveForTest(a: string): void } } })
        .__dmawbTest;
      if (!hooks) throw new Error('DMAWB_TEST_HOOKS did not reach the main process');
      hooks.engine.misbehaveForTest('exit');
    });
    await expect
      .poll(() => page.locator('text=/engine restarted/i').count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    // the restarted worker answers: a run works again
    await page.click('[data-testid="run"]');
    await expect
      .poll(() => page.locator('[data-testid="event-row"]').count(), { timeout: 30_000 })
      .toBeGreaterThan(5);
  });
});
