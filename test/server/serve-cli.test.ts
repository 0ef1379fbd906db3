/** `npm run serve` as a user starts it: prints the URL with its token, refuses bad flags, stops on SIGTERM. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));

describe('npm run serve', () => {
  it('refuses unknown flags and bad ports with a usage error (exit 64)', () => {
    for (const args of [['--bogus'], ['--port', 'http'], ['--port', '70000'], ['--port']]) {
      const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^serve: .*\nusage: npm run serve/);
    }
  });

  it('starts on 127.0.0.1 with a token, seeds a new workspace, and stops on SIGTERM', async () => {
    const ws = join(mkdtempSync(join(tmpdir(), 'dmawb-serve-')), 'scenarios');
    const child = spawn(process.execPath, [script, '--no-build', '--port', '0', '--workspace', ws], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DMAWB_SERVE_IDENTITY: join(ws, '..', 'identity.json') },
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no URL within 20 s:\n${out}`)), 20_000);
        child.stdout.on('data', (d) => {
          out += String(d);
          const m = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)$/m.exec(out);
          if (m) {
            clearTimeout(t);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
      });
      expect(out).toMatch(/serve: ready \d+ ms after start; listening on 127\.0\.0\.1 only/);
      expect(out).toContain(`serve: workspace ${ws} (seeded with `);
      expect((await fetch(url.replace(/\?.*/, ''))).status).toBe(403);
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(join(ws, '..'), { recursive: true, force: true });
    }
  });
});
