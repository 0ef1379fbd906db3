/**
 * The renderer's one door to the host side: a DmawbApi (common/contract.ts) chosen at start-up —
 * Electron's preload object, the browser-mode WebSocket client, or the in-memory fake in tests — plus
 * `call()`, which turns a Reply envelope into a value or a BridgeError with the host's message.
 */
import type { DmawbApi, RequestChannel, RequestOf, Responses } from '../../../common/contract';

/** Connection state of a bridge that can lose its host (the WebSocket client); others are always 'open'. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

/** Optional extras a bridge may offer beyond the contract. */
export interface BridgeExtras {
  /** subscribe to connection changes; returns an unsubscribe function */
  onConnection?(fn: (state: ConnectionState, detail?: string) => void): () => void;
  close?(): void;
}

export type Bridge = DmawbApi & BridgeExtras;

/** An explicit error reply (or a transport failure), with the host's message. */
export class BridgeError extends Error {
  constructor(
    readonly channel: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

let current: Bridge | null = null;

export function setBridge(b: Bridge | null): void {
  current = b;
}

export function getBridge(): Bridge {
  if (!current) throw new Error('no bridge: call setBridge() before using the stores');
  return current;
}

/** Calls a channel and returns its value; an error reply becomes a BridgeError. */
export async function call<C extends RequestChannel>(channel: C, req: RequestOf<C>): Promise<Responses[C]> {
  const fn = getBridge()[channel] as (r: RequestOf<C>) => ReturnType<DmawbApi[C]>;
  const reply = await fn(req);
  if (reply.ok) return reply.value as Responses[C];
  throw new BridgeError(channel, reply.error.code, reply.error.message);
}

/** Calls a channel and returns the raw Reply envelope (for callers that fall back on a refusal). */
export async function tryCall<C extends RequestChannel>(channel: C, req: RequestOf<C>) {
  const fn = getBridge()[channel] as (r: RequestOf<C>) => ReturnType<DmawbApi[C]>;
  return fn(req);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
