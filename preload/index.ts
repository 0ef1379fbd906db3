/**
 * Sandboxed preload: bundled as a single CommonJS file (see electron.vite.config.ts) because a sandboxed
 * preload can neither load ESM nor `require` node_modules.
 *
 * Exposes `window.dmawb` (DmawbApi): one function per request channel of the contract, each bound to its
 * own IPC channel `${CHANNEL_PREFIX}${channel}`, and `on(event, fn)` for the contract's event channels
 * only. There is no generic send/invoke, the renderer never sees ipcRenderer or an IpcRendererEvent, and
 * main validates every payload anyway (main/ipc.ts).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  CHANNEL_PREFIX,
  EVENT_CHANNELS,
  requests,
  type DmawbApi,
  type EventChannel,
  type Events,
  type RequestChannel,
} from '../common/contract.ts';
import { API_KEY } from './api.ts';

/** the function of one request channel (the channel is fixed here, not chosen by the renderer) */
function requestFunction(channel: RequestChannel): (req: unknown) => Promise<unknown> {
  const ipcChannel = CHANNEL_PREFIX + channel;
  return (req: unknown) => ipcRenderer.invoke(ipcChannel, req);
}

const api: Record<string, unknown> = {};
for (const channel of Object.keys(requests) as RequestChannel[]) api[channel] = requestFunction(channel);

api['on'] = <E extends EventChannel>(event: E, fn: (payload: Events[E]) => void): (() => void) => {
  if (!EVENT_CHANNELS.includes(event)) throw new Error(`dmawb.on: unknown event ${String(event)}`);
  if (typeof fn !== 'function') throw new Error('dmawb.on: the listener must be a function');
  const listener = (_e: IpcRendererEvent, payload: Events[E]): void => fn(payload);
  ipcRenderer.on(CHANNEL_PREFIX + event, listener);
  return () => {
    ipcRenderer.removeListener(CHANNEL_PREFIX + event, listener);
  };
};

contextBridge.exposeInMainWorld(API_KEY, Object.freeze(api) as unknown as DmawbApi);
