/**
 * Browser mode's server with the real engine worker behind it: 127.0.0.1 only, a token on every request,
 * the server's own Origin and Host only, and the typed contract over a WebSocket.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage, WireEvent, WireReply } from '../../common/wire.ts';
import { wsUrlFor } from '../../common/wire.ts';
import { createDispatch } from '../../host/dispatch.ts';
import { EngineHost } from '../../host/engine-host.ts';
import { sourceWorker } from '../../host/worker-source.ts';
import { Workspace } from '../../host/workspace.ts';
import { browserHandlers } from '../../server/local.ts';
import { startServer, type RunningServer } from '../../server/server.ts';

const base = mkdtempSync(join(tmpdir(), 'dmawb-server-'));
const rendererDir = join(base, 'renderer');
mkdirSync(join(rendererDir, 'assets'), { recursive: true });
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>DMA Workbench</title>');
writeFileSync(join(rendererDir, 'assets', 'app.js'), 'export {}');
writeFileSync(join(base, 'secret.txt'), 'secret');
const workspace = new Workspace(join(base, 'ws'));

let engine: EngineHost;
let server: RunningServer;
beforeAll(async () => {
  engine = new EngineHost({ factory: sourceWorker(), appVersion: '0.1.0' });
  server = await startServer({
    port: 0,
    rendererDir,
    dispatch: createDispatch({ engine, local: browserHandlers(workspace, '0.1.0') }),
    subscribe: (fn) => engine.on(fn),
  });
});
afterAll(async () => {
  await server.close();
  await engine.dispose();
  rmSync(base, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
  host = '127.0.0.1',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port: server.port, path, headers, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** opens a WebSocket; resolves with it open, or rejects with the HTTP status of the refused upgrade */
function connect(url: string, origin: string | null = server.origin): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function client(ws: WebSocket) {
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    messages.push(JSON.parse(String(d)) as ServerMessage);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async <T extends ServerMessage>(
    pred: (m: ServerMessage) => boolean,
    timeoutMs = 20_000,
  ): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = messages.find(pred);
      if (m) return m as T;
      if (Date.now() > end) throw new Error('no such message in time');
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  let nextId = 1;
  const call = async (channel: string, payload: unknown) => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, channel, payload }));
    return (await waitFor<WireReply>((m) => (m as WireReply).id === id)).reply;
  };
  return { messages, waitFor, call };
}

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 only', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    const other = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4');
    if (other)
      await expect(get(`/?token=${server.token}`, {}, other.address)).rejects.toThrow(/ECONNREFUSED/);
    await expect(get(`/?token=${server.token}`, {}, '::1')).rejects.toThrow();
  });

  it("requires the token on every request and sets it as a cookie for the page's own requests", async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/?token=wrong')).status).toBe(403);
    expect((await get('/assets/app.js')).status).toBe(403);
    const page = await get(`/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('DMA Workbench');
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:",
    );
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toBe(`dmawb_token_${server.port}=${server.token}`);
    const asset = await get('/assets/app.js', { cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('refuses other Hosts (DNS rebinding), other Origins and paths out of the renderer folder', async () => {
    const t = `?token=${server.token}`;
    expect((await get(`/${t}`, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(`/${t}`, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(`/${t}`, { origin: server.origin })).status).toBe(200);
    // WHATWG URL parsing folds %2e%2e into .. and stays inside the root: nothing outside is served
    expect((await get(`/%2e%2e/secret.txt${t}`)).status).toBe(404);
    expect((await get(`/..%2fsecret.txt${t}`)).status).toBe(403);
  });

  it('refuses WebSocket upgrades without the token, from another Origin, or without an Origin', async () => {
    const good = wsUrlFor(server.url);
    expect(good).toBe(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await expect(connect(good.replace(/\?.*$/, ''))).rejects.toThrow('HTTP 403');
    await expect(connect(good, 'http://evil.example')).rejects.toThrow('HTTP 403');
    await expect(connect(good, `http://127.0.0.1:${server.port + 1}`)).rejects.toThrow('HTTP 403');
    await expect(connect(good, null)).rejects.toThrow('HTTP 403');
    await expect(connect(good.replace('/ws', '/other'))).rejects.toThrow('HTTP 403');
    const ws = await connect(good);
    ws.close();
  });

  it('speaks the contract over the WebSocket: a run with streamed events, inspection, validation', async () => {
    const ws = await connect(wsUrlFor(server.url));
    const c = client(ws);
    const info = await c.call('app.info', {});
    expect(info).toEqual({
      ok: true,
      value: { name: 'DMA Workbench', version: '0.1.0', mode: 'browser', workspace: workspace.folder },
    });

    const source = `
      const host = createHost({ kernel: 'mainline' });
      const G = host.addPhb().addGroup();
      const p = host.spawn({ memlock: 4n * GiB });
      const C = p.openContainer();
      expectOk(p.openGroup(G).setContainer(C));
      expectErrno(C.registerMemory({ vaddr: 0x1000n, size: 0x10000n }), 'EINVAL'); // no IOMMU set yet
    `;
    const start = await c.call('run.start', { source, filename: 'ws.ts', kernel: 'mainline' });
    expect(start).toEqual({ ok: true, value: { source: 'run-1' } });
    const done = await c.waitFor<WireEvent<'run.done'>>((m) => (m as WireEvent).event === 'run.done');
    expect(done.payload).toMatchObject({ source: 'run-1', ok: true, expectations: { passed: 2, failed: 0 } });
    const rows = c.messages
      .filter((m) => (m as WireEvent).event === 'run.events')
      .flatMap((m) => (m as WireEvent<'run.events'>).payload.rows);
    expect(rows.length).toBe(done.payload.events);
    const st = await c.call('inspect.state', { source: 'run-1', seq: done.payload.events });
    expect(st.ok && (st.value as { processes: { memlock: string }[] }).processes[0]!.memlock).toBe(
      '0x100000000',
    );

    expect(await c.call('inspect.state', { source: 'run-1', seq: 'last' })).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: expect.stringMatching(/^inspect\.state: seq /) },
    });
    expect(await c.call('engine.selfDestruct', {})).toMatchObject({
      ok: false,
      error: { code: 'unknown-channel' },
    });
    ws.send('{not json');
    expect((await c.waitFor<WireReply>((m) => (m as WireReply).id === null)).reply).toMatchObject({
      ok: false,
      error: { code: 'invalid', message: 'the message is not valid JSON' },
    });
    ws.close();
  });

  it('works on the workspace folder, and refuses the native dialogs with "unsupported"', async () => {
    const ws = await connect(wsUrlFor(server.url));
    const c = client(ws);
    expect(await c.call('workspace.create', { name: 'new.ts', text: 'log(1)\n' })).toEqual({
      ok: true,
      value: { name: 'new.ts' },
    });
    expect(await c.call('workspace.create', { name: 'new.ts', text: '' })).toMatchObject({
      ok: false,
      error: { code: 'failed', message: expect.stringMatching(/already exists/) },
    });
    expect(await c.call('workspace.write', { name: 'new.ts', text: 'log(2)\n' })).toMatchObject({
      ok: true,
      value: { name: 'new.ts', bytes: 7 },
    });
    expect(await c.call('workspace.read', { name: 'new.ts' })).toMatchObject({
      ok: true,
      value: { name: 'new.ts', text: 'log(2)\n' },
    });
    expect(await c.call('workspace.list', {})).toEqual({
      ok: true,
      value: { folder: workspace.folder, files: [{ name: 'new.ts', size: 7 }] },
    });
    for (const ch of ['workspace.choose', 'file.open']) {
      expect(await c.call(ch, {})).toMatchObject({
        ok: false,
        error: { code: 'unsupported', message: expect.stringMatching(/not available in browser mode/) },
      });
    }
    expect(await c.call('file.saveAs', { suggestedName: 'x.json', text: '{}' })).toMatchObject({
      ok: false,
      error: { code: 'unsupported', message: expect.stringMatching(/download/) },
    });
    ws.close();
  });
});
