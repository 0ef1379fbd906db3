/**
 * One entry for every request from the renderer, whichever way it came (Electron IPC in main/ipc.ts, the
 * browser-mode WebSocket in server/): unknown channels and invalid payloads are refused with an explicit
 * reply before anything runs; engine channels go to the engine host (worker); files, dialogs and app info
 * are answered by the `local` handlers the caller supplies. Never throws: every outcome is a Reply.
 */
import {
  isRequestChannel,
  validateRequest,
  type Reply,
  type RequestChannel,
  type RequestOf,
  type Responses,
} from '../common/contract.ts';
import { isEngineChannel, type EngineChannel } from './engine-channels.ts';

export type LocalChannel = Exclude<RequestChannel, EngineChannel>;

export type LocalHandlers = {
  [C in LocalChannel]: (req: RequestOf<C>) => Promise<Responses[C]>;
};

/** A handler's refusal that is not a failure: the channel does not exist in this mode. */
export class UnsupportedError extends Error {
  override name = 'UnsupportedError';
}

export interface DispatchDeps {
  engine: { request(channel: EngineChannel, payload: unknown): Promise<Reply<unknown>> };
  local: LocalHandlers;
  /** errors whose message may be shown as is (others are reported with their message too, prefixed) */
  onInternalError?: (channel: string, e: unknown) => void;
}

export type Dispatch = (channel: unknown, payload: unknown) => Promise<Reply<unknown>>;

export function createDispatch(deps: DispatchDeps): Dispatch {
  return async (channel, payload) => {
    if (!isRequestChannel(channel)) {
      const shown = typeof channel === 'string' ? JSON.stringify(channel.slice(0, 100)) : typeof channel;
      return { ok: false, error: { code: 'unknown-channel', message: `unknown channel ${shown}` } };
    }
    const v = validateRequest(channel, payload);
    if (!v.ok) return { ok: false, error: { code: 'invalid', message: v.message } };
    if (isEngineChannel(channel)) return deps.engine.request(channel, v.value);
    const handler = deps.local[channel as LocalChannel] as (req: unknown) => Promise<unknown>;
    try {
      return { ok: true, value: await handler(v.value) };
    } catch (e) {
      if (e instanceof UnsupportedError)
        return { ok: false, error: { code: 'unsupported', message: e.message } };
      if (e instanceof Error && (e as { code?: unknown }).code === 'conflict')
        return { ok: false, error: { code: 'conflict', message: e.message } };
      deps.onInternalError?.(channel, e);
      return { ok: false, error: { code: 'failed', message: e instanceof Error ? e.message : String(e) } };
    }
  };
}
