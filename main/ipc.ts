/**
 * The ONLY file that touches ipcMain (the validated-IPC wrapper, like VS Code's validatedIpcMain). One
 * `invoke` handler per request channel of the contract, named `${CHANNEL_PREFIX}${channel}`:
 *
 * - the sender must be the main frame of one of the app's windows, showing the app's own origin
 *   (app://workbench/); anything else (an iframe, a navigated or foreign page) gets an error reply;
 * - the payload goes through host/dispatch.ts, which validates it against the contract before anything
 *   runs and answers with the Reply envelope, never a thrown exception;
 * - events go to the window with webContents.send on `${CHANNEL_PREFIX}${event}`.
 *
 * Unknown channels cannot reach main through the preload (it only has the contract's channels); the
 * dispatcher refuses them for the WebSocket bridge.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { CHANNEL_PREFIX, requests, type EventChannel, type Events, type Reply } from '../common/contract.ts';
import type { Dispatch } from '../host/dispatch.ts';

export interface IpcOptions {
  dispatch: Dispatch;
  /** whether a URL is the app's own (main/app-origin.ts isAppUrl) */
  isAppUrl: (url: string) => boolean;
  /** whether these web contents are one of the app's windows */
  isAppWindow: (wc: WebContents) => boolean;
}

function senderProblem(e: IpcMainInvokeEvent, o: IpcOptions): string | null {
  const frame = e.senderFrame;
  if (!frame) return 'the sending frame is gone';
  if (!o.isAppWindow(e.sender)) return 'the sender is not an app window';
  const main = e.sender.mainFrame;
  if (frame.parent !== null || frame.processId !== main.processId || frame.routingId !== main.routingId)
    return 'only the main frame may call the app';
  if (!o.isAppUrl(frame.url)) return 'the sender does not show the app';
  return null;
}

/** registers one handler per request channel; returns a function that removes them */
export function registerIpc(o: IpcOptions): () => void {
  const channels = Object.keys(requests);
  for (const channel of channels) {
    ipcMain.handle(CHANNEL_PREFIX + channel, async (e, payload: unknown): Promise<Reply<unknown>> => {
      const problem = senderProblem(e, o);
      if (problem) return { ok: false, error: { code: 'failed', message: `refused: ${problem}` } };
      return o.dispatch(channel, payload);
    });
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(CHANNEL_PREFIX + channel);
  };
}

/** sends one event to a window, if it is still there */
export function sendEvent<E extends EventChannel>(
  wc: WebContents | null | undefined,
  event: E,
  payload: Events[E],
): void {
  if (wc && !wc.isDestroyed()) wc.send(CHANNEL_PREFIX + event, payload);
}
