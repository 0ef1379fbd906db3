/**
 * The desktop shell without the Electron binary (issue 13). The app is built with electron-vite into a
 * temporary out/ folder, then:
 *
 * 1. the BUILT main bundle starts under a recording stand-in for the `electron` module
 *    (test/main/electron-standin/: resolved in place of `electron` by a Node module hook, never bundled),
 *    driven through ready → window → IPC → menu → before-quit, and the recorded start-up is checked
 *    against what a real start must do, in order;
 * 2. the BUILT preload bundle runs in Debian's Chromium inside a stand-in of Electron's sandboxed preload
 *    environment (a `require` that knows only the modules Electron allows there), and the API it exposes
 *    must be exactly the contract's.
 *
 * What this cannot show: that Electron itself honours these options. test/electron/ covers that where the
 * binary exists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MENU_COMMANDS } from '../../common/commands.ts';
import { CHANNEL_PREFIX, EVENT_CHANNELS, requests } from '../../common/contract.ts';
import { CSP } from '../../host/static.ts';
import { chromiumMissing, launchChromium } from '../support/chromium.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const standin = join(root, 'test/main/electron-standin');
let out = '';

beforeAll(() => {
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  // inside the checkout, so the bundle's bare imports resolve to node_modules as they do from out/
  out = mkdtempSync(join(root, 'node_modules/.cache/dmawb-shell-'));
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out],
    { cwd: root, stdio: 'pipe', timeout: 240_000 },
  );
}, 260_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

interface LogEntry {
  what: string;
  [k: string]: unknown;
}
interface Started {
  log: LogEntry[];
  report: {
    permissionRequest: boolean;
    permissionCheck: boolean;
    requestCancelled: Record<string, boolean>;
    protocol: Record<
      string,
      { status: number; csp: string | null; type: string | null; hasAppRoot: boolean }
    >;
    ipcFromApp: { ok: boolean };
    ipcFromIframe: { ok: boolean; error?: { message: string } };
    ipcFromForeignPage: { ok: boolean; error?: { message: string } };
    menu: {
      path: string[];
      id?: string;
      role?: string;
      type?: string;
      sent?: { channel: string; payload: unknown }[];
    }[];
  };
}

describe('main process start-up under a recording electron stand-in', () => {
  let started: Started;

  beforeAll(() => {
    const r = spawnSync(
      process.execPath,
      ['--import', join(standin, 'register.mjs'), join(standin, 'drive.mjs'), out],
      { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, STANDIN_APP_PATH: root } },
    );
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT')
      throw new Error(
        'the main process did not end after before-quit: the engine host was not disposed (its worker keeps the process alive)',
      );
    if (r.status !== 0) throw new Error(`the main bundle failed to start (exit ${r.status}):\n${r.stderr}`);
    started = JSON.parse(r.stdout) as Started;
  }, 90_000);

  const at = (what: string): number => started.log.findIndex((e) => e.what === what);
  const all = (what: string): LogEntry[] => started.log.filter((e) => e.what === what);

  it('registers the app:// scheme as privileged before ready, once, and takes the single-instance lock', () => {
    const schemes = all('protocol.registerSchemesAsPrivileged');
    expect(schemes).toHaveLength(1);
    expect(schemes[0]!['schemes']).toEqual([
      {
        scheme: 'app',
        privileges: {
          standard: true,
          secure: true,
          supportFetchAPI: true,
          corsEnabled: true,
          codeCache: true,
        },
      },
    ]);
    expect(at('protocol.registerSchemesAsPrivileged')).toBeLessThan(at('ready'));
    expect(at('app.requestSingleInstanceLock')).toBeGreaterThanOrEqual(0);
    expect(at('app.requestSingleInstanceLock')).toBeLessThan(at('ready'));
    expect(all('app.on').map((e) => e['event'])).toContain('second-instance');
    expect(all('app.quit')).toHaveLength(0); // the lock was granted: no quit
  });

  it('denies every permission and cancels every request that is not the app’s own', () => {
    expect(at('session.setPermissionRequestHandler')).toBeGreaterThan(at('ready'));
    expect(started.report.permissionRequest).toBe(false);
    expect(started.report.permissionCheck).toBe(false);
    expect(all('session.webRequest.onBeforeRequest')[0]!['filter']).toEqual({ urls: ['<all_urls>'] });
    expect(started.report.requestCancelled).toEqual({
      'app://workbench/index.html': false,
      'https://example.com/': true,
      'http://127.0.0.1:1/': true,
      'file:///etc/passwd': true,
      'ws://127.0.0.1:1/': true,
      'data:text/plain,x': false,
    });
  });

  it('serves the built renderer on app://workbench/ with the CSP header, and nothing else', () => {
    expect(all('session.protocol.handle').map((e) => e['scheme'])).toEqual(['app']);
    const p = started.report.protocol;
    expect(p['index']).toEqual({ status: 200, csp: CSP, type: 'text/html; charset=utf-8', hasAppRoot: true });
    expect(p['otherHost']!.status).toBe(403);
    expect(p['post']!.status).toBe(403);
    expect(p['outside']!.status).not.toBe(200);
    for (const r of Object.values(p)) expect(r.csp).toBe(CSP);
  });

  it('opens exactly one window with the security options and the preload the build produced', () => {
    const windows = all('new BrowserWindow');
    expect(windows).toHaveLength(1);
    const prefs = (windows[0]!['options'] as { webPreferences: Record<string, unknown> }).webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(prefs['preload']).toBe(join(out, 'preload', 'index.cjs'));
    expect(existsSync(prefs['preload'] as string), `${String(prefs['preload'])} does not exist`).toBe(true);
    expect(all('BrowserWindow.loadURL').map((e) => e['url'])).toEqual(['app://workbench/index.html']);
    expect(at('new BrowserWindow')).toBeGreaterThan(at('session.protocol.handle'));
  });

  it('registers every contract request channel once, before the window, and nothing else', () => {
    const channels = all('ipcMain.handle').map((e) => e['channel'] as string);
    expect([...channels].sort()).toEqual(
      Object.keys(requests)
        .map((c) => CHANNEL_PREFIX + c)
        .sort(),
    );
    expect(new Set(channels).size).toBe(channels.length);
    expect(all('ipcMain.on')).toHaveLength(0);
    expect(started.log.findIndex((e) => e.what === 'ipcMain.handle')).toBeLessThan(at('new BrowserWindow'));
  });

  it('answers IPC from the app’s main frame only', () => {
    expect(started.report.ipcFromApp.ok).toBe(true);
    expect(started.report.ipcFromIframe).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/main frame/) },
    });
    expect(started.report.ipcFromForeignPage).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/does not show the app/) },
    });
  });

  it('maps every menu item to an existing command id, sent to the renderer on command.run', () => {
    const commands = started.report.menu.filter((m) => m.id !== undefined);
    expect(commands.length).toBeGreaterThan(0);
    for (const m of commands) {
      expect(Object.keys(MENU_COMMANDS), m.path.join(' › ')).toContain(m.id);
      expect(m.sent).toEqual([{ channel: `${CHANNEL_PREFIX}command.run`, payload: { id: m.id } }]);
    }
    expect(commands.map((m) => m.id).sort()).toEqual(Object.keys(MENU_COMMANDS).sort());
    // items without a command are Electron roles or separators, never a click that does nothing
    for (const m of started.report.menu.filter((x) => x.id === undefined))
      expect(m.role ?? m.type).toBeTruthy();
  });

  it('disposes the engine host on before-quit (the process then ends by itself)', () => {
    expect(all('app.on').map((e) => e['event'])).toContain('before-quit');
    expect(at('before-quit handled')).toBeGreaterThan(at('emit'));
  });
});

const noChromium = chromiumMissing();
if (noChromium) console.warn(`test/main/desktop-shell: preload in Chromium SKIPPED — ${noChromium}`);

describe.skipIf(noChromium !== null)('the preload bundle in a sandboxed renderer (Chromium)', () => {
  it('exposes exactly the contract’s functions and refuses anything else', async () => {
    const code = readFileSync(join(out, 'preload', 'index.cjs'), 'utf8');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><title>preload</title>');
      const r = await page.evaluate(
        async ({ code, prefix }) => {
          // Electron's sandboxed preload: `require` knows electron (its renderer modules), events, timers
          // and url, nothing else; the preload runs in its own world and reaches the page only through
          // contextBridge.
          const required: string[] = [];
          const invoked: { channel: string; args: unknown[] }[] = [];
          const listening: string[] = [];
          const mainWorld: Record<string, unknown> = {};
          const electron = {
            contextBridge: {
              exposeInMainWorld(key: string, api: unknown) {
                if (key in mainWorld) throw new Error(`${key} exposed twice`);
                mainWorld[key] = api;
              },
            },
            ipcRenderer: {
              invoke: async (channel: string, ...args: unknown[]) => {
                invoked.push({ channel, args });
                return { ok: true, value: channel };
              },
              on: (channel: string) => void listening.push(channel),
              removeListener: () => undefined,
            },
            webFrame: {},
            crashReporter: {},
            nativeImage: {},
            webUtils: {},
          };
          const allowed: Record<string, unknown> = { electron, events: {}, timers: {}, url: {} };
          const require = (name: string): unknown => {
            required.push(name);
            if (!(name in allowed))
              throw new Error(`module not found: ${name} (not available in a sandboxed preload)`);
            return allowed[name];
          };
          const module = { exports: {} as unknown };
          new Function('require', 'module', 'exports', code)(require, module, module.exports);
          const api = mainWorld['dmawb'] as Record<string, (...a: unknown[]) => unknown>;
          const keys = Object.keys(api).sort();
          const answers: unknown[] = [];
          for (const k of keys) if (k !== 'on') answers.push(await api[k]!({ probe: k }));
          const throws = (f: () => unknown): string | null => {
            try {
              f();
              return null;
            } catch (e) {
              return (e as Error).message;
            }
          };
          let frozen = false;
          try {
            (api as Record<string, unknown>)['send'] = () => undefined;
          } catch {
            frozen = true;
          }
          const unsubscribe = api['on']!('run.done', () => undefined) as () => void;
          return {
            required: [...new Set(required)],
            exposed: Object.keys(mainWorld),
            keys,
            invoked,
            answers,
            listening,
            unknownEvent: throws(() => api['on']!('bogus', () => undefined)),
            notAFunction: throws(() => api['on']!('run.done', 'nope')),
            frozen: frozen || Object.isFrozen(api),
            hasSend: 'send' in api || 'invoke' in api || 'ipcRenderer' in api,
            unsubscribe: typeof unsubscribe,
            prefix,
          };
        },
        { code, prefix: CHANNEL_PREFIX },
      );
      expect(r.required).toEqual(['electron']);
      expect(r.exposed).toEqual(['dmawb']);
      expect(r.keys).toEqual([...Object.keys(requests), 'on'].sort());
      // each function invokes its own channel, with the request as its only argument
      expect(r.invoked).toEqual(
        Object.keys(requests)
          .sort()
          .map((c) => ({ channel: CHANNEL_PREFIX + c, args: [{ probe: c }] })),
      );
      expect(r.listening).toEqual([`${CHANNEL_PREFIX}run.done`]);
      expect(EVENT_CHANNELS).toContain('run.done');
      expect(r.unknownEvent).toMatch(/unknown event bogus/);
      expect(r.notAFunction).toMatch(/must be a function/);
      expect(r.frozen).toBe(true);
      expect(r.hasSend).toBe(false);
      expect(r.unsubscribe).toBe('function');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
