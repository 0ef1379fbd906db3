/**
 * A recording stand-in for the `electron` module, for test/main/startup.test.ts: it implements the part of
 * Electron's main-process API that main/ uses, records every call in order (`log`), and behaves like
 * Electron where the order matters — `protocol.registerSchemesAsPrivileged` after `ready` throws, as
 * Electron's does. Test-only: resolved in place of `electron` by hooks.mjs, never bundled.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** every call, in order: { what, ...details } */
export const log = [];
const record = (what, detail = {}) => log.push({ what, ...detail });

const paths = new Map();
const base = mkdtempSync(join(tmpdir(), 'dmawb-standin-'));
for (const name of ['userData', 'documents', 'home', 'temp', 'appData']) paths.set(name, join(base, name));

let ready = false;
let resolveReady;
const readyPromise = new Promise((r) => (resolveReady = r));
const appListeners = new Map();

/** control surface for the driver (not part of Electron's API) */
export const standin = {
  log,
  base,
  ipcHandlers: new Map(),
  protocolHandlers: new Map(),
  permissionRequest: null,
  permissionCheck: null,
  beforeRequest: null,
  windows: [],
  menu: null,
  emitReady() {
    ready = true;
    record('ready');
    resolveReady();
  },
  async emitApp(event, ...args) {
    record('emit', { event });
    for (const fn of appListeners.get(event) ?? []) await fn(...args);
  },
};

export const app = {
  isPackaged: false,
  getVersion: () => '0.0.0-standin',
  getName: () => 'dma-workbench',
  getAppPath: () => process.env.STANDIN_APP_PATH ?? process.cwd(),
  getPath: (name) => paths.get(name) ?? join(base, name),
  setPath(name, value) {
    record('app.setPath', { name, value });
    paths.set(name, value);
  },
  isReady: () => ready,
  whenReady() {
    record('app.whenReady');
    return readyPromise;
  },
  requestSingleInstanceLock() {
    record('app.requestSingleInstanceLock');
    return true;
  },
  quit() {
    record('app.quit');
  },
  on(event, fn) {
    record('app.on', { event });
    if (!appListeners.has(event)) appListeners.set(event, []);
    appListeners.get(event).push(fn);
    return app;
  },
  once(event, fn) {
    return app.on(event, fn);
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    if (ready) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    record('protocol.registerSchemesAsPrivileged', { schemes: structuredClone(schemes) });
  },
};

class WebContents {
  static next = 1;
  constructor() {
    this.id = WebContents.next++;
    this.sent = [];
    this.mainFrame = { processId: 1, routingId: this.id, parent: null, url: '' };
  }
  send(channel, payload) {
    this.sent.push({ channel, payload });
    record('webContents.send', { channel, payload });
  }
  isDestroyed() {
    return false;
  }
  on() {}
  setWindowOpenHandler() {}
}

export class BrowserWindow {
  static all = [];
  constructor(options) {
    record('new BrowserWindow', { options: structuredClone(options) });
    this.options = options;
    this.webContents = new WebContents();
    this.listeners = new Map();
    BrowserWindow.all.push(this);
    standin.windows.push(this);
  }
  static getAllWindows() {
    return [...BrowserWindow.all];
  }
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, []);
    this.listeners.get(event).push(fn);
    return this;
  }
  once(event, fn) {
    return this.on(event, fn);
  }
  async loadURL(url) {
    record('BrowserWindow.loadURL', { url });
    this.webContents.mainFrame.url = url;
  }
  show() {
    record('BrowserWindow.show');
  }
  isMinimized() {
    return false;
  }
  restore() {}
  focus() {}
}

export const session = {
  defaultSession: {
    setPermissionRequestHandler(fn) {
      record('session.setPermissionRequestHandler');
      standin.permissionRequest = fn;
    },
    setPermissionCheckHandler(fn) {
      record('session.setPermissionCheckHandler');
      standin.permissionCheck = fn;
    },
    webRequest: {
      onBeforeRequest(filter, fn) {
        record('session.webRequest.onBeforeRequest', { filter: structuredClone(filter) });
        standin.beforeRequest = fn;
      },
    },
    protocol: {
      handle(scheme, fn) {
        record('session.protocol.handle', { scheme });
        standin.protocolHandlers.set(scheme, fn);
      },
    },
  },
};

export const ipcMain = {
  handle(channel, fn) {
    record('ipcMain.handle', { channel });
    if (standin.ipcHandlers.has(channel))
      throw new Error(`Attempted to register a second handler for '${channel}'`);
    standin.ipcHandlers.set(channel, fn);
  },
  removeHandler(channel) {
    standin.ipcHandlers.delete(channel);
  },
  on(channel) {
    record('ipcMain.on', { channel });
  },
};

/** Menu.buildFromTemplate keeps the template; items keep their click functions for the driver */
export const Menu = {
  buildFromTemplate(template) {
    return { template };
  },
  setApplicationMenu(menu) {
    record('Menu.setApplicationMenu');
    standin.menu = menu;
  },
};

export const shell = {
  async openExternal(url) {
    record('shell.openExternal', { url });
  },
};

export const dialog = {
  async showOpenDialog() {
    record('dialog.showOpenDialog');
    return { canceled: true, filePaths: [] };
  },
  async showSaveDialog() {
    record('dialog.showSaveDialog');
    return { canceled: true };
  },
};

export default { app, protocol, BrowserWindow, session, ipcMain, Menu, shell, dialog };
