/**
 * Browser mode: a DmawbApi over one WebSocket to the workbench server (server/), speaking the wire
 * format of common/wire.ts — requests `{ id, channel, payload }`, replies `{ id, reply }` (the contract's
 * Reply envelope), pushed events `{ event, payload }`.
 *
 * - Request ids are per client; a reply settles exactly one pending request.
 * - Every request has a deadline; when it passes the caller gets an explicit error reply naming the
 *   channel (never a promise that hangs).
 * - The socket reconnects with backoff; requests made while it is down wait for it (within their
 *   deadline); requests in flight when it drops fail at once with "connection lost", because the server
 *   may or may not have run them.
 */
import {
  requests,
  type DmawbApi,
  type EventChannel,
  type Reply,
  type RequestChannel,
} from '../../../common/contract';
import {
  isWireEvent,
  WS_MAX_MESSAGE_BYTES,
  wsUrlFor,
  type ServerMessage,
  type WireRequest,
} from '../../../common/wire';
import type { Bridge, ConnectionState } from './api';

export interface WsBridgeOptions {
  url: string;
  /** per-request deadline in ms (default 30 s; exports and imports get 4× that) */
  timeoutMs?: number;
  /** backoff bounds for reconnecting (ms) */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** for tests: a WebSocket implementation */
  WebSocketImpl?: typeof WebSocket;
}

interface Pending {
  channel: string;
  resolve: (r: Reply<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
  /** the serialized request, kept until it is sent */
  frame: string | null;
}

const SLOW = new Set<string>([
  'run.compare',
  'export.snapshot',
  'export.report',
  'export.csv',
  'export.c',
  'snapshot.import',
  'capture.import',
  'file.saveAs',
  'file.open',
  'workspace.choose',
]);

/** `ws://host/ws?token=…` for the page this renderer was served from (token from the page URL). */
export function wsUrlFromLocation(loc: { href: string }): string {
  return wsUrlFor(loc.href);
}

export function createWsBridge(opts: WsBridgeOptions): Bridge {
  const WS = opts.WebSocketImpl ?? WebSocket;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const minBackoff = opts.minBackoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 5_000;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const connListeners = new Set<(s: ConnectionState, detail?: string) => void>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let backoff = minBackoff;
  let closedByUser = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  function setState(s: ConnectionState, detail?: string): void {
    if (s === state && s !== 'closed') return;
    state = s;
    for (const fn of connListeners) fn(s, detail);
  }

  function connect(): void {
    reconnectTimer = null;
    setState('connecting');
    let ws: WebSocket;
    try {
      ws = new WS(opts.url);
    } catch (e) {
      scheduleReconnect(e instanceof Error ? e.message : String(e));
      return;
    }
    socket = ws;
    ws.onopen = () => {
      backoff = minBackoff;
      setState('open');
      for (const p of pending.values()) {
        if (p.frame !== null) {
          ws.send(p.frame);
          p.frame = null;
        }
      }
    };
    ws.onmessage = (m: MessageEvent) => onMessage(m.data);
    ws.onclose = (ev: CloseEvent) => {
      if (socket !== ws) return;
      socket = null;
      // Requests already sent may or may not have run: tell their callers instead of guessing.
      for (const [id, p] of pending) {
        if (p.frame === null)
          settle(id, {
            ok: false,
            error: { code: 'failed', message: `${p.channel}: connection to the workbench server lost` },
          });
      }
      if (closedByUser) {
        setState('closed', 'closed');
        return;
      }
      scheduleReconnect(ev.reason || `socket closed (${ev.code})`);
    };
    ws.onerror = () => {
      /* onclose follows and handles it */
    };
  }

  function scheduleReconnect(detail: string): void {
    setState('closed', detail);
    if (closedByUser || reconnectTimer) return;
    reconnectTimer = setTimeout(connect, backoff);
    backoff = Math.min(maxBackoff, backoff * 2);
  }

  function settle(id: number, reply: Reply<unknown>): void {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(reply);
  }

  function onMessage(data: unknown): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(String(data)) as ServerMessage;
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (isWireEvent(msg)) {
      const set = listeners.get(msg.event);
      if (set) for (const fn of [...set]) fn(msg.payload);
    } else if (typeof msg.id === 'number' && msg.reply && typeof msg.reply === 'object') {
      settle(msg.id, msg.reply);
    } else if (msg.id === null && msg.reply && !msg.reply.ok) {
      console.error(`workbench server could not read a request: ${msg.reply.error.message}`);
    }
  }

  function request(channel: RequestChannel, payload: unknown): Promise<Reply<unknown>> {
    return new Promise((resolve) => {
      if (closedByUser) {
        resolve({ ok: false, error: { code: 'failed', message: `${channel}: the bridge is closed` } });
        return;
      }
      const id = nextId++;
      const frame = JSON.stringify({ id, channel, payload } as WireRequest);
      // checked before sending: the server would refuse a larger frame, and the request never get a reply
      const bytes =
        frame.length * 3 <= WS_MAX_MESSAGE_BYTES ? frame.length : new TextEncoder().encode(frame).length;
      if (bytes > WS_MAX_MESSAGE_BYTES) {
        resolve({
          ok: false,
          error: {
            code: 'invalid',
            message: `${channel}: the request is ${bytes} bytes, larger than browser mode's ${WS_MAX_MESSAGE_BYTES}-byte message limit`,
          },
        });
        return;
      }
      const ms = SLOW.has(channel) ? timeoutMs * 4 : timeoutMs;
      const timer = setTimeout(() => {
        const p = pending.get(id);
        const where = p && p.frame !== null ? 'the workbench server is not reachable' : 'no reply';
        settle(id, {
          ok: false,
          error: { code: 'failed', message: `${channel}: ${where} after ${Math.round(ms / 1000)} s` },
        });
      }, ms);
      const p: Pending = { channel, resolve, timer, frame };
      pending.set(id, p);
      if (socket && state === 'open') {
        socket.send(frame);
        p.frame = null;
      }
    });
  }

  const api: Record<string, unknown> = {};
  for (const channel of Object.keys(requests) as RequestChannel[]) {
    api[channel] = (payload: unknown) => request(channel, payload);
  }
  api.on = (event: EventChannel, fn: (p: never) => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const f = fn as (p: unknown) => void;
    set.add(f);
    return () => set!.delete(f);
  };
  api.onConnection = (fn: (s: ConnectionState, detail?: string) => void) => {
    connListeners.add(fn);
    fn(state);
    return () => connListeners.delete(fn);
  };
  api.close = () => {
    closedByUser = true;
    if (reconnectTimer) clearTimeout(reconnectTimer);
    socket?.close();
    for (const id of [...pending.keys()])
      settle(id, { ok: false, error: { code: 'failed', message: 'the bridge is closed' } });
  };

  connect();
  return api as unknown as DmawbApi & Bridge;
}
