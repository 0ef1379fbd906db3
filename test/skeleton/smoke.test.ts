import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const repoFile = (path: string) => new URL(`../../${path}`, import.meta.url);
const pkg = JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as {
  type: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

describe('project skeleton', () => {
  it('is an ES module package', () => {
    expect(pkg.type).toBe('module');
  });

  it('declares the dmawb bin, pointing at an existing Node launcher for cli/dmawb.ts', () => {
    const bin = pkg.bin['dmawb'];
    expect(bin).toBe('bin/dmawb.mjs');
    expect(existsSync(repoFile(bin!))).toBe(true);
    const source = readFileSync(repoFile(bin!), 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(source).toContain("'../cli/dmawb.ts'");
  });

  it('has every entry that electron.vite.config.ts builds', () => {
    for (const entry of ['main/index.ts', 'host/worker.ts', 'preload/index.ts', 'renderer/index.html']) {
      expect(existsSync(repoFile(entry)), entry).toBe(true);
    }
  });

  it('keeps the CSP in the renderer page', () => {
    const html = readFileSync(repoFile('renderer/index.html'), 'utf8');
    expect(html).toContain('http-equiv="Content-Security-Policy"');
    expect(html).toContain("script-src 'self'");
    expect(html).not.toContain('unsafe-eval');
  });
});
