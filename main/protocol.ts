/**
 * The privileged `app://` scheme that serves the built renderer (out/renderer) to the window: a standard,
 * secure origin (module scripts, Monaco's workers, fetch and storage work as on https), every response
 * with the renderer's CSP, and no path outside out/renderer (host/static.ts). Not loadFile(): file:// is
 * not a proper origin for module workers, and would make every local file the same origin as the app.
 */
import { protocol, type Session } from 'electron';
import { APP_HOST, APP_SCHEME } from './app-origin.ts';
import { readStatic, SECURITY_HEADERS } from '../host/static.ts';

/** must run before the app is ready */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      // corsEnabled: Chromium fetches module scripts and module workers in CORS mode, which a custom
      // scheme only supports when it is CORS-enabled; the requests are same-origin, nothing is shared.
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
    },
  ]);
}

/** serves out/renderer on app://workbench/ in this session */
export function handleAppProtocol(session: Session, rendererDir: string): void {
  session.protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST || (request.method !== 'GET' && request.method !== 'HEAD')) {
      return new Response('forbidden', { status: 403, headers: SECURITY_HEADERS });
    }
    const r = await readStatic(rendererDir, url.pathname);
    if (r.status !== 200) return new Response(r.message, { status: r.status, headers: SECURITY_HEADERS });
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(r.body), {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': r.type },
    });
  });
}
