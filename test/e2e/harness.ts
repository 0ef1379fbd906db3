/**
 * Browser-mode harness shared by the end-to-end tests and the renderer benchmarks: starts
 * `npm run serve` (scripts/serve.mjs) as a child process on a free port with a scratch workspace, and
 * real Debian Chromium through playwright-core. `describeInBrowser` is the one setup of an end-to-end
 * suite (server, browser, pages that report their errors, a skip with the reason where Chromium is
 * missing); each test still opens its own page and makes its own files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chromiumMissing, launchChromium } from '../support/chromium.ts';

export { CHROMIUM, chromiumMissing, launchChromium } from '../support/chromium.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export interface Served {
  /** Date.now() when `npm run serve` was spawned */
  spawnedAt: number;
  url: string;
  origin: string;
  workspace: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts browser mode on a free port with a fresh workspace (seeded with the examples). */
export async function startServe(
  opts: {
    workspace?: string;
    timeoutMs?: number;
    /** start on the port of the last start kept in `identity` (a restart), not on any free port */
    samePort?: boolean;
    /** start on this port (`--port N`), e.g. a restart on the same port with a new token (new `identity`) */
    port?: number;
    /** the token file (default: beside the workspace) */
    identity?: string;
  } = {},
): Promise<Served> {
  const scratch = opts.workspace ? null : mkdtempSync(join(tmpdir(), 'dmawb-e2e-'));
  const workspace = opts.workspace ?? join(scratch!, 'scenarios');
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'scripts', 'serve.mjs'),
      ...(opts.samePort ? [] : ['--port', String(opts.port ?? 0)]),
      '--workspace',
      workspace,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // the token file of a test server stays out of the user's config folder
      env: {
        ...process.env,
        DMAWB_SERVE_IDENTITY: opts.identity ?? join(workspace, '..', 'serve-identity.json'),
      },
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`npm run serve printed no URL within ${opts.timeoutMs ?? 180_000} ms:\n${out}`)),
      opts.timeoutMs ?? 180_000,
    );
    const check = () => {
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)$/m.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`npm run serve exited with ${code}:\n${out}`));
    });
  });
  return {
    spawnedAt,
    url,
    origin: new URL(url).origin,
    workspace,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Opens the app and waits until it is usable (workspace loaded, editor mounted); returns ms taken. */
export async function openApp(page: Page, url: string): Promise<number> {
  // tsx (esbuild keepNames) wraps named functions in __name(); functions sent to page.evaluate need it
  await page.addInitScript({ content: 'globalThis.__name = globalThis.__name || ((f) => f);' });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.dmawbUi?.state().ready === true, null, { timeout: 30_000 });
  await page.waitForSelector('[data-testid="scenario-editor"] .view-lines', { timeout: 30_000 });
  return Date.now() - t0;
}

export async function uiState(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(() => window.dmawbUi!.state());
}

export async function command(page: Page, id: string, arg?: unknown): Promise<unknown> {
  return page.evaluate(([i, a]) => window.dmawbUi!.run(i as string, a), [id, arg] as const);
}

/** Waits for the run (or import) to settle: not running, and the selected state on screen. */
export async function waitRunEnd(page: Page, timeout = 60_000): Promise<Record<string, unknown>> {
  await page.waitForFunction(
    () => {
      const s = window.dmawbUi?.state();
      return !!s && ['done', 'failed', 'imported'].includes(String(s.status));
    },
    null,
    { timeout },
  );
  await page.evaluate(() => window.dmawbUi!.settled());
  return uiState(page);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules) */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  const source = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: source });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } })
      .axe;
    return (await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })) as {
      violations: {
        id: string;
        impact: string | null;
        nodes: { target: unknown[]; failureSummary?: string }[];
      }[];
    };
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact!,
      nodes: v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`),
    }));
}

/** One browser-mode suite: its server and browser, and fresh pages on the app. */
export interface BrowserSuite {
  /** the running server (a test that restarts it assigns the new one here; the suite stops it) */
  served: Served;
  readonly browser: Browser;
  /** page errors (and console errors unless the suite says otherwise) of every page `page()` opened */
  readonly errors: string[];
  /** a page of its own (a fresh context, so fresh storage) at this size, opened on the app */
  page(opts?: { width?: number; height?: number; bypassCSP?: boolean; open?: boolean }): Promise<Page>;
}

/**
 * Declares an end-to-end suite against `npm run serve` in Debian Chromium: starts the server (with
 * `serve()`'s options, called when the suite starts) and the browser before the tests, stops both
 * after them. Where Chromium is missing the suite is one skipped test that says why.
 */
export function describeInBrowser(
  title: string,
  body: (suite: BrowserSuite) => void,
  opts: {
    serve?: () => Parameters<typeof startServe>[0];
    /** run the tests in random order (each must then set up its own state) */
    shuffle?: boolean;
    /** also count console errors (default true; off where a test provokes them on purpose) */
    consoleErrors?: boolean;
  } = {},
): void {
  const missing = chromiumMissing();
  if (missing) {
    console.warn(`browser end-to-end tests: ${missing}`);
    describe(title, () => it.skip(`skipped: ${missing}`, () => {}));
    return;
  }
  (opts.shuffle ? describe.shuffle : describe)(title, () => {
    let browser: Browser | undefined;
    const errors: string[] = [];
    const suite: BrowserSuite = {
      served: undefined as unknown as Served,
      get browser() {
        if (!browser) throw new Error('the browser is not started yet (use the suite inside a test or hook)');
        return browser;
      },
      errors,
      async page({ width = 1440, height = 900, bypassCSP = false, open = true } = {}) {
        // axe-core is injected as a script: only its page may bypass the CSP
        const context = await suite.browser.newContext({
          viewport: { width, height },
          acceptDownloads: true,
          bypassCSP,
        });
        const page = await context.newPage();
        page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
        if (opts.consoleErrors !== false)
          page.on('console', (m) => {
            if (m.type() === 'error') errors.push(`console: ${m.text()}`);
          });
        if (open) await openApp(page, suite.served.url);
        return page;
      },
    };
    beforeAll(async () => {
      suite.served = await startServe(opts.serve?.());
      browser = await launchChromium();
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await suite.served?.stop();
    });
    body(suite);
  });
}

/** Replaces the open scenario's text the way a paste does (no auto-closing or suggestions in the way). */
export async function replaceEditorText(page: Page, text: string): Promise<void> {
  await page.click('[data-testid="scenario-editor"] .view-lines');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Opens a workspace file from the scenario list and waits until the editor shows it. */
export async function openFile(page: Page, name: string): Promise<void> {
  await page.click(`[data-testid="scenario-item"][data-name="${name}"]`);
  await page.waitForFunction((n) => window.dmawbUi!.state().openFile === n, name);
}

/** Opens a workspace file, picks the kernel profile, runs it with the Run button and waits for the end. */
export async function runFile(
  page: Page,
  name: string,
  kernel = 'mainline',
): Promise<Record<string, unknown>> {
  await openFile(page, name);
  await page.selectOption('[data-testid="kernel-select"]', kernel);
  await page.click('[data-testid="run"]');
  return waitRunEnd(page);
}
