/**
 * Browser mode's HTTP + WebSocket server (protocol: server/protocol.ts): serves the built renderer with
 * the renderer's CSP, and the typed contract over a WebSocket, on 127.0.0.1 only, behind a random token
 * and an Origin/Host check.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventChannel, Events } from '../common/contract.ts';
import { TOKEN_PARAM, WS_MAX_MESSAGE_BYTES, WS_PATH, type ServerMessage } from '../common/wire.ts';
import type { Dispatch } from '../host/dispatch.ts';
import { readStatic, SECURITY_HEADERS } from '../host/static.ts';
import { parseClientMessage } from './protocol.ts';

export interface ServerOptions {
  /** port to listen on (0: any free port) */
  port: number;
  /** the built renderer (out/renderer) */
  rendererDir: string;
  dispatch: Dispatch;
  /** subscribes to engine events; returns the unsubscribe */
  subscribe: (fn: <E extends EventChannel>(event: E, payload: Events[E]) => void) => () => void;
  /** fixed token (tests); default: random per start */
  token?: string;
  /** a client's unsent bytes above which its 'run.events' frames are held back (default 8 MiB) */
  highWaterBytes?: number;
  /** log line for problems with one client (default: console.error) */
  log?: (line: string) => void;
}

/**
 * Frames up to this size are read and, if over WS_MAX_MESSAGE_BYTES, answered with an error naming the
 * limit; larger ones close the connection with 1009 (message too big) before they are buffered.
 */
const HARD_FRAME_LIMIT = WS_MAX_MESSAGE_BYTES + 16 * 1024 * 1024;
/** rows fetched per catch-up frame for a client that fell behind */
const CATCH_UP_ROWS = 2_000;

/**
 * A client that fell behind: for each run, the index of the first row it has not been sent, and the
 * run's run.done once it came (sent after the missing rows, so it always arrives and arrives last).
 */
interface Lag {
  next: number;
  done: Events['run.done'] | null;
}

interface Client {
  /** rows sent per run (run.events) */
  sent: Map<string, number>;
  lagging: Map<string, Lag>;
  pumping: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  origin: string;
  /** unsent bytes per connected client (diagnostics, tests) */
  clientBuffers(): number[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  let port = 0;
  const cookieName = (): string => `dmawb_token_${port}`;

  const tokenOk = (req: IncomingMessage, url: URL): boolean => {
    const given = url.searchParams.get(TOKEN_PARAM) ?? cookieOf(req.headers.cookie, cookieName());
    if (!given) return false;
    const b = Buffer.from(given);
    return b.length === tokenBuf.length && timingSafeEqual(b, tokenBuf);
  };
  /** the request's Host is this server (not a rebinding name), and its Origin, if any, is this server */
  const hostOk = (req: IncomingMessage): boolean =>
    req.headers.host === `${HOST}:${port}` || req.headers.host === `localhost:${port}`;
  const originOk = (req: IncomingMessage, required: boolean): boolean => {
    const o = req.headers.origin;
    if (o === undefined) return !required;
    return o === `http://${req.headers.host}`;
  };

  const server = createServer((req, res) => void onHttp(req, res));
  async function onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (!hostOk(req) || !originOk(req, false) || !tokenOk(req, url))
      return refuse(res, 403, 'forbidden: open the URL printed by `npm run serve` (it carries the token)');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    const r = await readStatic(opts.rendererDir, url.pathname);
    if (r.status !== 200) return refuse(res, r.status, r.message);
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'Content-Type': r.type,
      'Cache-Control': 'no-cache',
    };
    if (url.searchParams.has(TOKEN_PARAM))
      headers['Set-Cookie'] = `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : r.body);
  }

  const log = opts.log ?? ((line: string) => console.error(line));
  const highWater = opts.highWaterBytes ?? 8 * 1024 * 1024;
  const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_FRAME_LIMIT });
  server.on('clientError', (_e, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a client that resets mid-handshake
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (url.pathname !== WS_PATH || !hostOk(req) || !originOk(req, true) || !tokenOk(req, url)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, m: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m), (e) => e && ws.terminate());
  };
  const invalid = (ws: WebSocket, id: number | null, message: string): void =>
    send(ws, { id, reply: { ok: false, error: { code: 'invalid', message } } });
  const clients = new Map<WebSocket, Client>();

  wss.on('connection', (ws: WebSocket) => {
    clients.set(ws, { sent: new Map(), lagging: new Map(), pumping: false });
    // Without an 'error' listener, one bad frame (invalid UTF-8, a bad opcode, an unmasked or oversized
    // frame) would be an uncaught exception and take the whole server down. ws closes the connection
    // with the matching close code (1002, 1007, 1009) on its own; this only keeps the process alive.
    ws.on('error', (e) => log(`serve: closed a WebSocket connection: ${e.message}`));
    ws.on('close', () => clients.delete(ws));
    ws.on('message', (data, isBinary) => {
      try {
        if (isBinary) return ws.close(1003, 'text frames only');
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        if (buf.length > WS_MAX_MESSAGE_BYTES)
          return invalid(
            ws,
            null,
            `the message is ${buf.length} bytes, more than the limit of ${WS_MAX_MESSAGE_BYTES} bytes`,
          );
        const m = parseClientMessage(buf.toString('utf8'));
        if (!m.ok) return invalid(ws, m.id, m.message);
        opts.dispatch(m.request.channel, m.request.payload).then(
          (reply) => send(ws, { id: m.request.id, reply: reply as never }),
          (e: unknown) =>
            send(ws, {
              id: m.request.id,
              reply: { ok: false, error: { code: 'failed', message: `internal error: ${String(e)}` } },
            }),
        );
      } catch (e) {
        log(`serve: a message could not be handled: ${e instanceof Error ? e.message : String(e)}`);
        invalid(ws, null, 'the message could not be handled');
      }
    });
  });

  /**
   * Events to a client that stops reading would pile up in this process without bound. Above the high
   * water mark its 'run.events' frames are held back; the rows it missed are fetched from the engine
   * (inspect.rows) and sent in order once it reads again, then its run.done. Replies, run.done and
   * engine.restarted are small and always sent.
   */
  const pump = async (ws: WebSocket, c: Client): Promise<void> => {
    if (c.pumping) return;
    c.pumping = true;
    try {
      for (const [source, lag] of c.lagging) {
        while (ws.readyState === ws.OPEN && ws.bufferedAmount < highWater / 4) {
          const r = await opts.dispatch('inspect.rows', { source, from: lag.next, count: CATCH_UP_ROWS });
          const rows = r.ok ? (r.value as { rows: Events['run.events']['rows'] }).rows : [];
          if (rows.length > 0) {
            send(ws, { event: 'run.events', payload: { source, rows } });
            lag.next += rows.length;
            c.sent.set(source, lag.next);
          }
          if (rows.length < CATCH_UP_ROWS) {
            if (lag.done || !r.ok) {
              c.lagging.delete(source);
              if (lag.done) send(ws, { event: 'run.done', payload: lag.done });
            }
            break;
          }
        }
      }
    } finally {
      c.pumping = false;
    }
    // still behind: try again when what is buffered has gone out
    if (c.lagging.size > 0 && ws.readyState === ws.OPEN) setTimeout(() => void pump(ws, c), 50).unref();
  };

  const unsubscribe = opts.subscribe((event, payload) => {
    if (event === 'command.run') return;
    let frame: string | undefined;
    for (const [ws, c] of clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (event === 'run.events') {
        const p = payload as Events['run.events'];
        const lag = c.lagging.get(p.source);
        if (lag || ws.bufferedAmount > highWater) {
          if (!lag) c.lagging.set(p.source, { next: c.sent.get(p.source) ?? 0, done: null });
          void pump(ws, c);
          continue;
        }
        c.sent.set(p.source, (c.sent.get(p.source) ?? 0) + p.rows.length);
      } else if (event === 'run.done') {
        const p = payload as Events['run.done'];
        const lag = c.lagging.get(p.source);
        c.sent.delete(p.source);
        if (lag) {
          lag.done = p;
          void pump(ws, c);
          continue;
        }
      }
      frame ??= JSON.stringify({ event, payload });
      ws.send(frame, (e) => e && ws.terminate());
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;
  const origin = `http://${HOST}:${port}`;
  return {
    url: `${origin}/?${TOKEN_PARAM}=${token}`,
    port,
    token,
    origin,
    clientBuffers: () => [...clients.keys()].map((ws) => ws.bufferedAmount),
    close: async () => {
      unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Security-Policy': "default-src 'none'",
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(message + '\n');
}

function cookieOf(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}
