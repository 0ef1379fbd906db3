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
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  origin: string;
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

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
    if (url.pathname !== WS_PATH || !hostOk(req) || !originOk(req, true) || !tokenOk(req, url)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, m: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      const m = parseClientMessage(text);
      if (!m.ok)
        return send(ws, { id: m.id, reply: { ok: false, error: { code: 'invalid', message: m.message } } });
      void opts
        .dispatch(m.request.channel, m.request.payload)
        .then((reply) => send(ws, { id: m.request.id, reply: reply as never }));
    });
  });
  const unsubscribe = opts.subscribe((event, payload) => {
    if (event === 'command.run') return;
    const frame = JSON.stringify({ event, payload });
    for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(frame);
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
