/**
 * Serving the built renderer (out/renderer) safely, for the desktop app's `app://` protocol and the
 * browser-mode HTTP server alike: URL path → file inside the root (anything that would leave the root is
 * refused), content type, and the Content-Security-Policy header sent with every response. Plain Node.
 */
import { promises as fs } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The renderer's CSP (the same as the meta tag in renderer/index.html): Monaco needs inline styles and
 * blob: workers; nothing else is loosened. 'self' covers the same-origin WebSocket of browser mode.
 */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:";

/** headers sent with every file of the renderer */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.d.ts': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  if (file.endsWith('.d.ts')) return TYPES['.d.ts']!;
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file under `root` that a URL path names ('/' is index.html), or null if the path is malformed or
 * would leave the root (`..`, encoded separators, NUL, absolute paths, Windows drive letters).
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let p: string;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!p.startsWith('/') || p.includes('\0') || p.includes('\\')) return null;
  if (p.split('/').some((seg) => seg === '..' || seg === '.')) return null;
  if (p.endsWith('/')) p += 'index.html';
  const base = resolve(root);
  const file = resolve(base, '.' + p);
  const rel = relative(base, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null;
  return file;
}

export type StaticResult =
  { status: 200; file: string; type: string; body: Buffer } | { status: 403 | 404; message: string };

/** reads the file a URL path names, with the status to answer */
export async function readStatic(root: string, urlPath: string): Promise<StaticResult> {
  const file = resolveStaticPath(root, urlPath);
  if (!file) return { status: 403, message: 'forbidden path' };
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return { status: 404, message: 'not found' };
    return { status: 200, file, type: contentTypeOf(file), body: await fs.readFile(file) };
  } catch {
    return { status: 404, message: 'not found' };
  }
}
