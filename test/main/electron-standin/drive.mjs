/**
 * Starts the BUILT main bundle (`<out>/main/index.js`) as Electron would, with `electron` resolved to the
 * recording stand-in (run as `node --import ./register.mjs drive.mjs <out>`), then plays what a real
 * start and quit do: `ready`, a permission request, requests through the filter, the app:// protocol,
 * IPC from the app's main frame and from an iframe, every menu item clicked, `before-quit`. Prints one
 * JSON document { log, report } on stdout. The process must then end by itself: if `before-quit` did not
 * dispose the engine host, its worker keeps it alive and the test's time-out reports that.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { standin } from 'electron';

const out = process.argv[2];
if (!out) throw new Error('usage: drive.mjs <electron-vite out dir>');

async function until(what, cond, ms = 20_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`start-up never reached: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

await import(pathToFileURL(join(out, 'main', 'index.js')).href);
standin.log.push({ what: 'main module evaluated' });
standin.emitReady();
await until('BrowserWindow.loadURL', () => standin.log.some((e) => e.what === 'BrowserWindow.loadURL'));
// start() ends with createWindow(); let the microtasks after it settle before probing
await new Promise((r) => setTimeout(r, 50));

const report = {};

report.permissionRequest = await new Promise((r) => standin.permissionRequest(null, 'media', r, {}));
report.permissionCheck = standin.permissionCheck(null, 'media', 'app://workbench', {});

const filtered = async (url) => (await new Promise((r) => standin.beforeRequest({ url }, r))).cancel;
report.requestCancelled = {};
for (const url of [
  'app://workbench/index.html',
  'https://example.com/',
  'http://127.0.0.1:1/',
  'file:///etc/passwd',
  'ws://127.0.0.1:1/',
  'data:text/plain,x',
])
  report.requestCancelled[url] = await filtered(url);

const serve = standin.protocolHandlers.get('app');
const probe = async (url, method = 'GET') => {
  const res = await serve(new Request(url, { method }));
  const body = method === 'GET' ? await res.text() : '';
  return {
    status: res.status,
    csp: res.headers.get('content-security-policy'),
    type: res.headers.get('content-type'),
    hasAppRoot: body.includes('id="app"'),
  };
};
report.protocol = {
  index: await probe('app://workbench/index.html'),
  otherHost: await probe('app://elsewhere/index.html'),
  outside: await probe('app://workbench/%2e%2e/%2e%2e/package.json'),
  post: await probe('app://workbench/index.html', 'POST'),
};

const win = standin.windows[0];
const wc = win.webContents;
const ipc = async (frame) =>
  standin.ipcHandlers.get('dmawb:app.info')({ sender: wc, senderFrame: frame }, {});
report.ipcFromApp = await ipc(wc.mainFrame);
report.ipcFromIframe = await ipc({ ...wc.mainFrame, parent: wc.mainFrame, routingId: 999 });
report.ipcFromForeignPage = await ipc({ ...wc.mainFrame, url: 'https://example.com/' });

report.menu = [];
const visit = (items, path) => {
  for (const item of items) {
    const label = item.label ?? item.role ?? item.type;
    if (item.submenu) visit(item.submenu, [...path, label]);
    else if (typeof item.click === 'function') {
      const before = wc.sent.length;
      item.click();
      report.menu.push({ path: [...path, label], id: item.id, sent: wc.sent.slice(before) });
    } else report.menu.push({ path: [...path, label], role: item.role, type: item.type });
  }
};
visit(standin.menu?.template ?? [], []);

await standin.emitApp('before-quit');
standin.log.push({ what: 'before-quit handled' });
process.stdout.write(JSON.stringify({ log: standin.log, report }));
