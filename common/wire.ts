/**
 * Messages of the browser-mode WebSocket bridge (server/protocol.ts documents the protocol): the same
 * typed contract as the Electron preload (common/contract.ts), as JSON text frames. Shared by the server
 * and the renderer's client. Imports nothing but types.
 */
import type { EventChannel, Events, Reply, RequestChannel, RequestOf, Responses } from './contract.ts';

/** path of the WebSocket endpoint on the server's own origin */
export const WS_PATH = '/ws';
/** query parameter carrying the per-start token (page URL and WebSocket URL) */
export const TOKEN_PARAM = 'token';
/** largest text frame the server accepts (a 64 MiB snapshot import plus JSON overhead) */
export const WS_MAX_MESSAGE_BYTES = 80 * 1024 * 1024;

/** client → server: one request; `id` is chosen by the client and echoed in the reply */
export interface WireRequest<C extends RequestChannel = RequestChannel> {
  id: number;
  channel: C;
  payload: RequestOf<C>;
}

/** server → client: the reply to request `id` (null only when the request could not be read at all) */
export interface WireReply<C extends RequestChannel = RequestChannel> {
  id: number | null;
  reply: Reply<Responses[C]>;
}

/** server → client: an event (no id) */
export interface WireEvent<E extends EventChannel = EventChannel> {
  event: E;
  payload: Events[E];
}

export type ServerMessage = WireReply | WireEvent;

export function isWireEvent(m: ServerMessage): m is WireEvent {
  return typeof (m as WireEvent).event === 'string';
}

/** the WebSocket URL for a page served at `pageUrl` (its token query parameter is carried over) */
export function wsUrlFor(pageUrl: string): string {
  const u = new URL(pageUrl);
  const ws = new URL(WS_PATH, u);
  ws.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = u.searchParams.get(TOKEN_PARAM);
  if (token) ws.searchParams.set(TOKEN_PARAM, token);
  return ws.href;
}
