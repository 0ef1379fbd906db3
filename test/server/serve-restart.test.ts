/**
 * Issue 12, item 6: after `npm run serve` restarts, the page that is still open can reach it again: the
 * same port and the same token (kept in a 0600 file in the user's config folder), so it re-authenticates
 * by itself and saves what was typed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'dmawb-restart-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const identity = join(base, 'config', 'serve-identity.json');

/** starts serve, returns its URL, stops it again */
async function startAndStop(): Promise<string> {
  const child = spawn(process.execPath, [script, '--no-build', '--workspace', join(base, 'ws')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DMAWB_SERVE_IDENTITY: identity },
  });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL within 30 s:\n${out}`)), 30_000);
      child.stdout.on('data', (d) => {
        out += String(d);
        const m = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)$/m.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      child.stderr.on('data', (d) => (out += String(d)));
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
    });
    expect((await fetch(url)).status).not.toBe(403); // the token is this server's
    return url;
  } finally {
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exit;
  }
}

describe('npm run serve across a restart', () => {
  it('comes back on the same URL (port and token), kept in a file only the user can read', async () => {
    const first = await startAndStop();
    expect(statSync(identity).mode & 0o777).toBe(0o600);
    const second = await startAndStop();
    expect(second).toBe(first);
  });

  it('a malformed identity file is replaced by a new token', async () => {
    writeFileSync(identity, '{"token": "short", "port": "x"}');
    const url = await startAndStop();
    expect(new URL(url).searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
