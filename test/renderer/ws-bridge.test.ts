/** The browser-mode WebSocket client against a real WebSocket server speaking common/wire.ts. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as NodeWebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import type { WireRequest } from '../../common/wire';
import type { Bridge, ConnectionState } from '../../renderer/src/bridge/api';
import { createWsBridge } from '../../renderer/src/bridge/ws';
import { until } from './helpers';

type Handler = (req: WireRequest, send: (m: unknown) => void) => void;

let servers: WebSocketServer[] = [];
let bridges: Bridge[] = [];

async function server(handler: Handler, port = 0): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    ws.on('message', (d) => handler(JSON.parse(String(d)), (m) => ws.send(JSON.stringify(m))));
  });
  servers.push(wss);
  return wss;
}

function client(wss: WebSocketServer, timeoutMs = 2000): Bridge {
  const port = (wss.address() as AddressInfo).port;
  const b = createWsBridge({
    url: `ws://127.0.0.1:${port}/ws?token=t`,
    timeoutMs,
    minBackoffMs: 20,
    maxBackoffMs: 50,
    WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
  });
  bridges.push(b);
  return b;
}

const echoInfo: Handler = (req, send) => {
  if (req.channel === 'app.info')
    send({
      id: req.id,
      reply: { ok: true, value: { name: 'x', version: '1', mode: 'browser', workspace: '/w' } },
    });
};

afterEach(async () => {
  for (const b of bridges) b.close?.();
  for (const s of servers) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => s.close(r));
  }
  servers = [];
  bridges = [];
});

describe('WebSocket bridge', () => {
  it('matches replies to requests by id, whatever order they come in', async () => {
    const held: WireRequest[] = [];
    let sendFn: (m: unknown) => void = () => {};
    const wss = await server((req, send) => {
      held.push(req);
      sendFn = send;
      if (held.length === 2)
        for (const r of [...held].reverse())
          send({
            id: r.id,
            reply: {
              ok: true,
              value: { name: r.channel, text: String((r.payload as { name: string }).name) },
            },
          });
    });
    const b = client(wss);
    const [a, c] = await Promise.all([
      b['workspace.read']({ name: 'a.ts' }),
      b['workspace.read']({ name: 'c.ts' }),
    ]);
    expect(a).toEqual({ ok: true, value: { name: 'workspace.read', text: 'a.ts' } });
    expect(c).toEqual({ ok: true, value: { name: 'workspace.read', text: 'c.ts' } });
    expect(held.map((r) => r.channel)).toEqual(['workspace.read', 'workspace.read']);
    expect(held[0]!.id).not.toBe(held[1]!.id);
    void sendFn;
  });

  it('passes error replies through as they are', async () => {
    const wss = await server((req, send) =>
      send({
        id: req.id,
        reply: {
          ok: false,
          error: { code: 'unsupported', message: 'file.saveAs is not available in browser mode' },
        },
      }),
    );
    const b = client(wss);
    expect(await b['file.saveAs']({ suggestedName: 'a', text: 'b' })).toEqual({
      ok: false,
      error: { code: 'unsupported', message: 'file.saveAs is not available in browser mode' },
    });
  });

  it('delivers pushed events to subscribers until they unsubscribe', async () => {
    let push: (m: unknown) => void = () => {};
    const wss = await server((req, send) => {
      push = send;
      echoInfo(req, send);
    });
    const b = client(wss);
    await b['app.info']({});
    const got: unknown[] = [];
    const off = b.on('engine.restarted', (p) => got.push(p));
    push({ event: 'engine.restarted', payload: { reason: 'r1' } });
    await until(() => got.length === 1, 'the event');
    off();
    push({ event: 'engine.restarted', payload: { reason: 'r2' } });
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual([{ reason: 'r1' }]);
  });

  it('gives an explicit error when no reply comes in time', async () => {
    const wss = await server(() => {});
    const b = client(wss, 100);
    const r = await b['inspect.state']({ source: 'run-1', seq: 0 });
    expect(r).toEqual({ ok: false, error: { code: 'failed', message: 'inspect.state: no reply after 0 s' } });
  });

  it('fails requests in flight when the connection drops, then reconnects and works again', async () => {
    let drop = true;
    const wss = await server((req, send) => {
      if (drop && req.channel === 'inspect.rows') {
        drop = false;
        for (const c of wss.clients) c.terminate();
        return;
      }
      echoInfo(req, send);
    });
    const b = client(wss);
    const states: ConnectionState[] = [];
    b.onConnection!((s) => states.push(s));
    await until(() => states.includes('open'), 'connected');
    const r = await b['inspect.rows']({ source: 'run-1', from: 0, count: 1 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/inspect\.rows: connection to the workbench server lost/);
    await until(() => states.filter((s) => s === 'open').length >= 2, 'reconnected');
    expect(await b['app.info']({})).toMatchObject({ ok: true, value: { mode: 'browser' } });
    expect(states).toContain('closed');
  });

  it('holds requests made before the server is up and sends them once it is', async () => {
    // pick a free port, then start the server on it a little later
    const probe = await server(() => {});
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    servers = [];
    const b = createWsBridge({
      url: `ws://127.0.0.1:${port}/ws`,
      timeoutMs: 3000,
      minBackoffMs: 20,
      maxBackoffMs: 40,
      WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
    });
    bridges.push(b);
    const pending = b['app.info']({});
    await new Promise((r) => setTimeout(r, 100));
    await server(echoInfo, port);
    expect(await pending).toMatchObject({ ok: true });
  });

  it('after close, requests fail at once', async () => {
    const wss = await server(echoInfo);
    const b = client(wss);
    b.close!();
    expect(await b['app.info']({})).toEqual({
      ok: false,
      error: { code: 'failed', message: 'app.info: the bridge is closed' },
    });
  });
});
