/**
 * Picks the bridge for this window: Electron's preload object when present, else the browser-mode
 * WebSocket. The in-memory fake (`?bridge=fake`, for UI work without a server) exists only in dev builds
 * (`npm run dev`) or builds made with `VITE_DMAWB_FAKE_BRIDGE=1`: the condition is a compile-time
 * constant, so a production bundle does not contain the fake at all.
 */
import type { Bridge } from './api';
import { createWsBridge, wsUrlFromLocation } from './ws';

export * from './api';

export async function createDefaultBridge(win: Window = window): Promise<Bridge> {
  if (win.dmawb) return win.dmawb;
  if (import.meta.env.DEV || import.meta.env.VITE_DMAWB_FAKE_BRIDGE === '1') {
    const params = new URLSearchParams(win.location.search);
    if (params.get('bridge') === 'fake') {
      const { createFakeBridge } = await import('./fake');
      return createFakeBridge({ latencyMs: 2 });
    }
  }
  return createWsBridge({ url: wsUrlFromLocation(win.location) });
}
