/** Serving the built renderer: only files inside its folder, with the CSP. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CSP, contentTypeOf, readStatic, resolveStaticPath } from '../../host/static.ts';

const base = mkdtempSync(join(tmpdir(), 'dmawb-static-'));
const root = join(base, 'renderer');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html>');
writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(base, 'secret.txt'), 'secret');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('static files of the renderer', () => {
  it('maps URL paths to files inside the root', async () => {
    expect(resolveStaticPath(root, '/')).toBe(join(root, 'index.html'));
    expect(resolveStaticPath(root, '/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    const r = await readStatic(root, '/assets/app.js');
    expect(r).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect((await readStatic(root, '/nope.js')).status).toBe(404);
    expect((await readStatic(root, '/assets')).status).toBe(404);
  });

  it('refuses every way out of the root', async () => {
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%5csecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%00',
      '/a\\..\\..\\secret.txt',
      'secret.txt',
      '/%',
      '/./index.html',
    ]) {
      expect(resolveStaticPath(root, p), p).toBeNull();
      expect((await readStatic(root, p)).status, p).toBe(403);
    }
  });

  it('knows the types Monaco and Vite emit, and keeps the CSP strict', () => {
    expect(contentTypeOf('x.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('x.ttf')).toBe('font/ttf');
    expect(contentTypeOf('x.bin')).toBe('application/octet-stream');
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toContain('unsafe-eval');
  });
});
