/**
 * The app's own origin: the renderer is served from `app://workbench/` (main/protocol.ts), and only a
 * main frame showing a URL of that origin may call the IPC channels (main/ipc.ts). Electron-free so the
 * rule is tested in plain Node.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/**
 * Whether `url` belongs to the app: `app://workbench/…`, or, in `electron-vite dev` only, the dev server's
 * origin (`devOrigin`, e.g. "http://localhost:5173"). Note Node's URL gives custom schemes the origin
 * "null", so scheme and host are compared instead.
 */
export function isAppUrl(url: string, devOrigin: string | null = null): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (
    u.protocol === `${APP_SCHEME}:` &&
    u.host === APP_HOST &&
    u.username === '' &&
    u.password === '' &&
    u.port === ''
  )
    return true;
  return devOrigin !== null && (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === devOrigin;
}

/** links the app may hand to the system browser */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
