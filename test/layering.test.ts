/**
 * Layering rules of notes/style.md, checked on the sources: raw ipcMain only in main/ipc.ts, no raw
 * ipcRenderer outside the preload, nothing Electron in the code browser mode and the worker share.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : /\.(ts|mjs|vue)$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}
const read = (f: string): string => readFileSync(join(root, f), 'utf8');

describe('layering', () => {
  it('uses ipcMain in main/ipc.ts only', () => {
    const users = ['main', 'host', 'server', 'common', 'preload', 'renderer']
      .flatMap(sources)
      .filter((f) => /\bipcMain\b/.test(read(f).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')));
    expect(users).toEqual(['main/ipc.ts']);
  });

  it('uses ipcRenderer in the preload only, and never a generic send there', () => {
    const users = ['main', 'host', 'server', 'common', 'renderer']
      .flatMap(sources)
      .filter((f) => /\bipcRenderer\b/.test(read(f)));
    expect(users).toEqual([]);
    expect(read('preload/index.ts')).not.toMatch(/ipcRenderer\.(send|sendSync|postMessage)\b/);
  });

  it('keeps Electron out of everything the worker, browser mode and the tests load', () => {
    const electronFree = [
      ...sources('host'),
      'main/app-origin.ts',
      ...sources('server'),
      ...sources('common'),
    ];
    for (const f of electronFree)
      expect(read(f), f).not.toMatch(/from ['"]electron['"]|require\(['"]electron['"]\)/);
  });

  it('keeps common/ free of anything but types and valibot', () => {
    for (const f of sources('common')) {
      const imports = [...read(f).matchAll(/^import\s+(type\s+)?[^;]*?from\s+['"]([^'"]+)['"]/gm)];
      for (const m of imports)
        expect(m[1] === 'type ' || m[2] === 'valibot' || m[2]!.startsWith('./'), `${f}: ${m[0]}`).toBe(true);
    }
  });

  it('keeps the engine pure: nothing from Node, Electron or the DOM, only its own modules and valibot', () => {
    const allowed = new Set(['valibot', '@valibot/to-json-schema']);
    for (const f of sources('engine')) {
      const text = read(f);
      for (const m of text.matchAll(/^\s*(?:import|export)\s(type\s)?[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
        // types may come from common/ (the shared contract); code only from the engine itself and valibot
        const ok =
          m[2]!.startsWith('./') ||
          allowed.has(m[2]!) ||
          (m[1] === 'type ' && m[2]!.startsWith('../common/'));
        expect(ok, `${f}: ${m[0].trim()}`).toBe(true);
      }
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, f).not.toMatch(
        /\brequire\(|(?<![\w.])process\.(?:env|argv|exit|cwd|versions|platform|memoryUsage|nextTick|hrtime)\b|\b(?:window|document|navigator)\.|\bglobalThis\.process\b/,
      );
    }
  });

  it('keeps the renderer away from main, host, server and Node', () => {
    for (const f of sources('renderer')) {
      for (const m of read(f).matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        expect(/(^|\/)(main|host|server)\//.test(m[1]!) || m[1]!.startsWith('node:'), `${f}: ${m[0]}`).toBe(false);
      }
    }
  });
});
