/**
 * Picks the bridge for this window: Electron's preload object when present, the in-memory fake when the
 * page URL asks for it (`?bridge=fake`, for UI work without a server), else the browser-mode WebSocket.
 */
import type { Bridge } from './api';
import { createFakeBridge } from './fake';
import { createWsBridge, wsUrlFromLocation } from './ws';

export * from './api';

export function createDefaultBridge(win: Window = window): Bridge {
  if (win.dmawb) return win.dmawb;
  const params = new URLSearchParams(win.location.search);
  if (params.get('bridge') === 'fake') return createFakeBridge({ latencyMs: 2 });
  return createWsBridge({ url: wsUrlFromLocation(win.location) });
}
