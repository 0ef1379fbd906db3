/**
 * The one object the preload exposes to the renderer as `window.dmawb`: the typed contract's API
 * (common/contract.ts), one named function per request channel plus `on(event, fn)`. Type-only imports,
 * so the renderer's tsconfig can read it without pulling in Node or Electron.
 */
export type { DmawbApi } from '../common/contract.ts';

/** The global name under which the preload exposes the API. */
export const API_KEY = 'dmawb';
