/**
 * `npm start` (scripts/start.mjs) where the Electron binary cannot be had: one clear message that says why
 * and points at `npm run serve`, exit 1, no stack trace, and nothing built or written. The script runs
 * from a scratch copy beside a scratch copy of the electron package without its binary (inside the
 * checkout, so that package still resolves @electron/get from the repository's node_modules); the
 * repository's own node_modules/electron is never touched. The download goes to a mirror on 127.0.0.1
 * that has nothing, so the test does not depend on the network being absent.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node } from '../support/node-child.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('npm start without the Electron binary', () => {
  let server: Server;
  let mirror = '';
  const requested: string[] = [];
  let scratch = '';
  let pkg = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      requested.push(req.url ?? '');
      res.statusCode = 404;
      res.end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
    scratch = mkdtempSync(join(root, 'node_modules/.cache/dmawb-start-'));
    pkg = join(scratch, 'node_modules/electron');
    cpSync(join(root, 'node_modules/electron'), pkg, {
      recursive: true,
      filter: (src) => !/[/\\](dist|path\.txt)$/.test(src),
    });
    mkdirSync(join(scratch, 'scripts'));
    cpSync(join(root, 'scripts/start.mjs'), join(scratch, 'scripts/start.mjs'));
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const env = (over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      ELECTRON_MIRROR: mirror,
      electron_config_cache: join(scratch, 'cache'),
      force_no_cache: 'true',
      ...over,
    };
    for (const k of ['ELECTRON_OVERRIDE_DIST_PATH', 'ELECTRON_SKIP_BINARY_DOWNLOAD'])
      if (!(k in over)) delete e[k];
    return e;
  };

  /** the message's promises: why, `npm run serve`, and no stack trace */
  function expectOneClearMessage(r: { status: number | null; stdout: string; stderr: string }): void {
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/npm start: the desktop app needs the Electron \d+\.\d+\.\d+ binary, and /);
    expect(r.stderr).toContain('Use `npm run serve` for the same workbench in a browser');
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/^\s+at \S/m);
    expect(r.stderr).not.toMatch(/Error: Electron failed to install/);
  }

  it('the download fails: says so with the reason, exits 1, builds nothing and writes no path.txt', async () => {
    const r = await node([join(scratch, 'scripts/start.mjs')], { cwd: scratch, env: env() });
    expectOneClearMessage(r);
    expect(r.stderr).toMatch(/it is not installed and could not be downloaded \(.*404.*\)/);
    // it tried the mirror
    expect(requested.some((u) => u.endsWith('.zip') || u.endsWith('SHASUMS256.txt'))).toBe(true);
    expect(existsSync(join(pkg, 'path.txt'))).toBe(false);
    expect(existsSync(join(scratch, 'out'))).toBe(false);
    expect(r.stdout).not.toMatch(/vite|building/i);
  });

  it('ELECTRON_OVERRIDE_DIST_PATH without a binary: says which path, does not download', async () => {
    const before = requested.length;
    const empty = join(scratch, 'empty-dist');
    mkdirSync(empty, { recursive: true });
    const r = await node([join(scratch, 'scripts/start.mjs')], {
      cwd: scratch,
      env: env({ ELECTRON_OVERRIDE_DIST_PATH: empty }),
    });
    expectOneClearMessage(r);
    expect(r.stderr).toContain(`ELECTRON_OVERRIDE_DIST_PATH points at ${join(empty, 'electron')}`);
    expect(requested.length).toBe(before);
  });
});
