/**
 * Issue 12, item 3 (and the WebSocket half of item 8): browser mode survives every malformed or oversized
 * frame, tells the client why, and holds back events for a client that stops reading while still
 * delivering every row and the run.done. The fuzz takes its seed from test/support/seed.ts (fixed under CI,
 * fresh locally, DMAWB_FC_SEED replays) and sends a bounded number of frames.
 */
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EventRow } from '../../common/contract.ts';
import {
  WS_MAX_MESSAGE_BYTES,
  type ServerMessage,
  type WireEvent,
  type WireReply,
} from '../../common/wire.ts';
import { wsUrlFor } from '../../common/wire.ts';
import { seededRandom, testSeed, withSeed } from '../support/seed.ts';
import { createDispatch } from '../../host/dispatch.ts';
import { EngineHost } from '../../host/engine-host.ts';
import { sourceWorker } from '../../host/worker-source.ts';
import { Workspace } from '../../host/workspace.ts';
import { browserHandlers } from '../../server/local.ts';
import { startServer, type RunningServer } from '../../server/server.ts';

const base = mkdtempSync(join(tmpdir(), 'dmawb-robust-'));
const rendererDir = join(base, 'renderer');
mkdirSync(rendererDir, { recursive: true });
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>DMA Workbench</title>');
const workspace = new Workspace(join(base, 'ws'));
const HIGH_WATER = 256 * 1024;

let engine: EngineHost;
let server: RunningServer;
const logged: string[] = [];
beforeAll(async () => {
  engine = new EngineHost({ factory: sourceWorker(), appVersion: '0.1.0' });
  server = await startServer({
    port: 0,
    rendererDir,
    dispatch: createDispatch({ engine, local: browserHandlers(workspace, '0.1.0') }),
    subscribe: (fn) => engine.on(fn),
    highWaterBytes: HIGH_WATER,
    log: (l) => logged.push(l),
  });
});
afterAll(async () => {
  await server.close();
  await engine.dispose();
  rmSync(base, { recursive: true, force: true });
});

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrlFor(server.url), { origin: server.origin });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function client(ws: WebSocket) {
  const messages: ServerMessage[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as ServerMessage));
  ws.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
  ws.on('error', () => {});
  const until = async (cond: () => boolean, timeoutMs = 30_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  let nextId = 1;
  const call = async (channel: string, payload: unknown) => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, channel, payload }));
    let found: WireReply | undefined;
    await until(() => (found = messages.find((m) => (m as WireReply).id === id) as WireReply) !== undefined);
    return found!.reply;
  };
  return { messages, call, until, closed: () => closed };
}

/** the server still answers a fresh connection */
async function alive(): Promise<void> {
  const ws = await connect();
  const c = client(ws);
  expect(await c.call('app.info', {})).toMatchObject({ ok: true });
  ws.close();
}

/** one raw client→server WebSocket frame (masked unless told otherwise) */
function rawFrame(
  opcode: number,
  payload: Buffer,
  opts: { fin?: boolean; mask?: boolean; rsv?: number } = {},
): Buffer {
  const fin = opts.fin ?? true;
  const mask = opts.mask ?? true;
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const len = payload.length;
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else {
    head.push(
      (mask ? 0x80 : 0) | 127,
      0,
      0,
      0,
      0,
      (len >>> 24) & 0xff,
      (len >>> 16) & 0xff,
      (len >>> 8) & 0xff,
      len & 0xff,
    );
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** opens a WebSocket by hand on a raw TCP socket, writes `bytes` after the handshake, waits for the close */
function rawSession(bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const sock = tcpConnect(server.port, '127.0.0.1');
    let got = '';
    let upgraded = false;
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (!upgraded && got.includes('\r\n\r\n')) {
        upgraded = true;
        sock.write(bytes);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => resolve(got));
    const url = new URL(wsUrlFor(server.url));
    sock.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${server.origin}\r\n` +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    setTimeout(() => sock.destroy(), 3000).unref();
  });
}

describe('malformed and oversized frames', () => {
  it('frames that break the WebSocket protocol close that connection only; the server stays up', async () => {
    const cases: [string, Buffer][] = [
      ['invalid UTF-8 in a text frame', rawFrame(1, Buffer.from([0xc3, 0x28, 0xff, 0xfe]))],
      ['a reserved opcode', rawFrame(3, Buffer.from('x'))],
      ['an unmasked client frame', rawFrame(1, Buffer.from('{"id":1}'), { mask: false })],
      ['reserved bits set', rawFrame(1, Buffer.from('{}'), { rsv: 7 })],
      ['a continuation frame with nothing to continue', rawFrame(0, Buffer.from('x'))],
      ['a fragmented control frame', rawFrame(9, Buffer.from('x'), { fin: false })],
      [
        'a declared length beyond every limit',
        Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      ],
    ];
    for (const [what, bytes] of cases) {
      const reply = await rawSession(bytes);
      expect(reply, what).toMatch(/^HTTP\/1\.1 101/);
      // the server sent a close frame (opcode 8) with a protocol-error status (1002, 1007 or 1009)
      const body = Buffer.from(reply.slice(reply.indexOf('\r\n\r\n') + 4), 'latin1');
      const close = body.indexOf(0x88);
      expect(close, what).toBeGreaterThanOrEqual(0);
      expect([1002, 1007, 1009], what).toContain(body.readUInt16BE(close + 2));
      await alive();
    }
    expect(logged.length).toBeGreaterThanOrEqual(cases.length);
  });

  it('an oversized frame gets a reply naming the limit; a far larger one closes with 1009', async () => {
    const ws = await connect();
    const c = client(ws);
    ws.send('x'.repeat(WS_MAX_MESSAGE_BYTES + 1));
    await c.until(() => c.messages.length > 0);
    expect(c.messages[0]).toMatchObject({
      id: null,
      reply: {
        ok: false,
        error: { code: 'invalid', message: expect.stringMatching(/more than the limit of/) },
      },
    });
    expect(await c.call('app.info', {})).toMatchObject({ ok: true }); // the same connection still works
    ws.send('y'.repeat(WS_MAX_MESSAGE_BYTES + 17 * 1024 * 1024));
    await c.until(() => c.closed() !== null);
    expect(c.closed()!.code).toBe(1009);
    await alive();
  });

  it('fuzz: 400 random frames never take the server down and each readable one is answered', async () => {
    // the one seed policy (test/support/seed.ts): fixed under CI, fresh locally, DMAWB_FC_SEED replays
    const seed = testSeed(12);
    await withSeed('robustness fuzz', seed, () => fuzz(seededRandom(seed)));
  });

  async function fuzz(r: () => number): Promise<void> {
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const channels = [
      'app.info',
      'run.start',
      'inspect.rows',
      'snapshot.import',
      'workspace.read',
      'nope',
      '',
    ];
    const junk = (): unknown => {
      switch (Math.floor(r() * 8)) {
        case 0:
          return Math.floor(r() * 2 ** 53) * (r() < 0.5 ? -1 : 1);
        case 1:
          return 'x'.repeat(Math.floor(r() * 300));
        case 2:
          return null;
        case 3:
          return [junk(), junk()];
        case 4:
          return { source: 'run-1', from: r() * 100, count: -1 };
        case 5:
          return { __proto__: { polluted: true }, constructor: { prototype: 1 } };
        case 6:
          return r() * 1e300;
        default:
          return { text: '{'.repeat(Math.floor(r() * 5000)) };
      }
    };
    const ws = await connect();
    const c = client(ws);
    let readable = 0;
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < 400 && Date.now() < deadline; i++) {
      const kind = Math.floor(r() * 5);
      let text: string;
      if (kind === 0)
        text = Array.from({ length: Math.floor(r() * 200) }, () =>
          String.fromCharCode(Math.floor(r() * 0xd7ff)),
        ).join('');
      else if (kind === 1) text = JSON.stringify(junk());
      else if (kind === 2) text = '['.repeat(Math.floor(r() * 100_000));
      else text = JSON.stringify({ id: i, channel: pick(channels), payload: junk() });
      if (kind >= 3) readable++;
      ws.send(text);
    }
    await c.until(() => c.messages.filter((m) => 'reply' in m).length >= readable);
    expect(c.closed()).toBeNull();
    for (const m of c.messages) if ('reply' in m) expect(typeof (m as WireReply).reply.ok).toBe('boolean');
    expect(Object.prototype).not.toHaveProperty('polluted');
    ws.close();
    await alive();
  }
});

describe('a client that stops reading', () => {
  it('gets its events held back (bounded buffer), then every row in order and run.done last', async () => {
    const slow = await connect();
    const s = client(slow);
    const fast = client(await connect());
    const source = [
      'const h = createHost();',
      'for (let i = 0; i < 30000; i++) log("row " + i + " " + "pad".repeat(20));',
    ].join('\n');
    (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const start = await fast.call('run.start', { source, filename: 'many.ts', kernel: 'mainline' });
    expect(start.ok).toBe(true);
    const id = (start as { value: { source: string } }).value.source;
    await fast.until(() => fast.messages.some((m) => (m as WireEvent).event === 'run.done'));
    // the slow client's queue stayed near the high-water mark instead of holding the whole run
    const buffered = Math.max(...server.clientBuffers());
    expect(buffered).toBeLessThan(HIGH_WATER + 1024 * 1024);
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    await s.until(() => s.messages.some((m) => (m as WireEvent).event === 'run.done'));
    const mine = s.messages.filter(
      (m): m is WireEvent => 'event' in m && (m.payload as { source?: string }).source === id,
    );
    const rows = mine
      .filter((m) => m.event === 'run.events')
      .flatMap((m) => (m.payload as { rows: EventRow[] }).rows);
    expect(rows).toHaveLength(30000);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => rows[0]!.seq + i));
    expect(mine[mine.length - 1]!.event).toBe('run.done');
    slow.close();
  });
});
