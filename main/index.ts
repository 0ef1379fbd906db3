/**
 * Electron main process: one window on the renderer served from app://workbench/, the engine in a worker
 * thread (host/engine-host.ts), the typed IPC (main/ipc.ts), the workspace and dialogs (main/files.ts),
 * the application menu (main/menu.ts).
 *
 * Electron's security checklist, item by item: context isolation, sandboxed renderer, no Node
 * integration, webSecurity on; the renderer comes from a privileged custom protocol with a strict CSP
 * header (main/protocol.ts), never from the network (any http/https/ws/file request of the page is
 * cancelled); navigation, new windows and <webview> are blocked, external links open in the system
 * browser; every permission request is denied; IPC senders are checked and every payload is validated.
 */
import { app, BrowserWindow, Menu, session, shell, type WebContents } from 'electron';
import { join } from 'node:path';
import type { EventChannel, Events } from '../common/contract.ts';
import { APP_ENTRY, isAppUrl, isExternalLink } from './app-origin.ts';
import { createDispatch } from '../host/dispatch.ts';
import { builtWorker, EngineHost } from '../host/engine-host.ts';
import { RUN_BUDGET_ENV, runBudgetFromEnv } from '../host/run-budget.ts';
import { DesktopFiles } from './files.ts';
import { registerIpc, sendEvent } from './ipc.ts';
import { buildMenu } from './menu.ts';
import { handleAppProtocol, registerAppScheme } from './protocol.ts';

const isMac = process.platform === 'darwin';
// `electron-vite dev` serves the renderer over http and sets ELECTRON_RENDERER_URL; never when packaged
const devUrl = !app.isPackaged ? (process.env['ELECTRON_RENDERER_URL'] ?? null) : null;
const devOrigin = devUrl ? new URL(devUrl).origin : null;
const trustedUrl = (url: string): boolean => isAppUrl(url, devOrigin);

// tests and portable setups: a separate profile and workspace
if (process.env['DMAWB_USER_DATA']) app.setPath('userData', process.env['DMAWB_USER_DATA']);

registerAppScheme();

let win: BrowserWindow | null = null;
const windows = new Set<number>();

/** one window for the whole app; a second launch focuses it */
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  void app.whenReady().then(start);
}

// Every web contents the app ever creates: no new windows, no navigation, no <webview>.
app.on('web-contents-created', (_e, contents) => {
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const block = (e: { preventDefault(): void }, url: string): void => {
    e.preventDefault();
    if (isExternalLink(url) && !trustedUrl(url)) void shell.openExternal(url);
  };
  contents.on('will-navigate', (e) => block(e, e.url));
  contents.on('will-frame-navigate', (e) => {
    if (!e.isMainFrame) e.preventDefault();
  });
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

async function start(): Promise<void> {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // no remote content: the page may load app:// (and data:/blob:), nothing from the network or disk
  ses.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => {
    const u = details.url;
    const allowed =
      u.startsWith('data:') ||
      u.startsWith('blob:') ||
      u.startsWith('devtools:') ||
      trustedUrl(u) ||
      isDevSocket(u);
    callback({ cancel: !allowed });
  });
  handleAppProtocol(ses, join(import.meta.dirname, '../renderer'));

  // DMAWB_TEST_HOOKS=1 (test/electron only, never when packaged): the worker accepts misbehaviour requests and
  // the engine host is reachable from the main process's global, so a test can crash the worker.
  const testHooks = !app.isPackaged && process.env['DMAWB_TEST_HOOKS'] === '1';
  // a run's time budget (default 30 s): DMAWB_RUN_TIMEOUT_MS, as in browser mode (host/run-budget.ts)
  let runTimeoutMs: number | undefined;
  try {
    runTimeoutMs = runBudgetFromEnv(process.env[RUN_BUDGET_ENV]);
  } catch (e) {
    console.error(`dmawb: ${(e as Error).message}; the default budget applies`);
  }
  const engine = new EngineHost({
    factory: builtWorker(import.meta.dirname),
    appVersion: app.getVersion(),
    testHooks,
    ...(runTimeoutMs !== undefined ? { runTimeoutMs } : {}),
  });
  if (testHooks) (globalThis as { __dmawbTest?: unknown }).__dmawbTest = { engine };
  const files = await DesktopFiles.open({
    userData: app.getPath('userData'),
    documents: app.getPath('documents'),
    examplesDir: join(app.getAppPath(), 'examples'),
    ...(process.env['DMAWB_WORKSPACE'] ? { defaultFolder: process.env['DMAWB_WORKSPACE'] } : {}),
  });
  const dispatch = createDispatch({
    engine,
    local: {
      'app.info': async () => ({
        name: 'DMA Workbench',
        version: app.getVersion(),
        mode: 'electron',
        workspace: files.workspace.folder,
      }),
      ...files.handlers(() => win),
    },
  });
  registerIpc({ dispatch, isAppUrl: trustedUrl, isAppWindow: (wc: WebContents) => windows.has(wc.id) });
  engine.on(<E extends EventChannel>(event: E, payload: Events[E]) =>
    sendEvent(win?.webContents, event, payload),
  );

  Menu.setApplicationMenu(
    buildMenu({
      isMac,
      devTools: !app.isPackaged,
      send: (id) => sendEvent(win?.webContents, 'command.run', { id }),
    }),
  );

  app.on('before-quit', () => void engine.dispose());
  app.on('window-all-closed', () => {
    if (!isMac) app.quit();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  createWindow();
}

function isDevSocket(url: string): boolean {
  if (!devOrigin) return false;
  const u = new URL(url);
  return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.host === new URL(devOrigin).host;
}

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'DMA Workbench',
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const id = w.webContents.id;
  windows.add(id);
  win = w;
  w.once('ready-to-show', () => w.show());
  w.on('closed', () => {
    windows.delete(id);
    if (win === w) win = null;
  });
  void w.loadURL(devUrl ?? APP_ENTRY);
  return w;
}
