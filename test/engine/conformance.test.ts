/**
 * Runs every worked conformance case (test/conformance/*.ts, kernel-model.md §9) against the engine in the
 * profile its file name says (c01-4.2.ts → '4.2', c01-mainline.ts → 'mainline') and checks two things:
 * no expectation failed, and the run recorded exactly as many expectations as the table in
 * test/conformance/README.md says — so a file that stops early (an exception, a loop that ends too soon,
 * an expectation deleted by accident) fails here even though nothing it did record failed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../engine/api.ts';
import { runDirect } from '../support/direct.ts';

const dir = new URL('../conformance/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

/** The README's table: `| c01-4.2.ts | C01 extensions | 4.2 | 15 |` → { 'c01-4.2.ts': { era, count } } */
function readTable(): {
  rows: Map<string, { era: string; count: number }>;
  total: { files: number; count: number } | null;
} {
  const rows = new Map<string, { era: string; count: number }>();
  let total: { files: number; count: number } | null = null;
  for (const line of readFileSync(new URL('README.md', dir), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // a table row is "| a | b | c | d |": 6 pieces with empty first and last
    if (cells.length !== 6 || cells[0] !== '' || cells[5] !== '') continue;
    const [, file, , era, count] = cells as [string, string, string, string, string];
    const m = /^\*\*(\d+) files\*\*$/.exec(file);
    if (m) {
      total = { files: Number(m[1]), count: Number(count.replace(/\*/g, '')) };
      continue;
    }
    if (!/^c\d+-(4\.2|5\.x|mainline)\.ts$/.test(file)) continue; // header and separator rows
    if (rows.has(file)) throw new Error(`README lists ${file} twice`);
    rows.set(file, { era, count: Number(count) });
  }
  return { rows, total };
}

const table = readTable();

function kernelOf(file: string): KernelName {
  const m = /^c\d+-(4\.2|5\.x|mainline)\.ts$/.exec(file);
  if (!m)
    throw new Error(`${file}: the name does not say its era (cNN-4.2.ts, cNN-5.x.ts or cNN-mainline.ts)`);
  return m[1] as KernelName;
}

describe('conformance README table', () => {
  it('lists exactly the conformance files, with the era their names say', () => {
    expect(files.length).toBeGreaterThan(0);
    expect([...table.rows.keys()].sort()).toEqual(files);
    for (const f of files) expect(table.rows.get(f)!.era, f).toBe(kernelOf(f));
  });

  it('has a total row that matches its rows', () => {
    expect(table.total).not.toBeNull();
    expect(table.total!.files).toBe(table.rows.size);
    expect(table.total!.count).toBe([...table.rows.values()].reduce((s, r) => s + r.count, 0));
  });
});

describe('conformance cases (kernel-model.md §9)', () => {
  it.each(files)('%s passes with the README number of expectations', (file) => {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const { failures, events, session } = runDirect(source, kernelOf(file));
    const expects = events.filter((e) => e.kind === 'expect');
    expect(
      failures.map((f) => (f.kind === 'expect' ? `${f.label}: got ${f.actual}, expected ${f.expected}` : '')),
      file,
    ).toEqual([]);
    expect(expects.length, `${file}: expectations recorded`).toBe(table.rows.get(file)?.count);
    expect(session.expectations.failed).toBe(0);
    // the file names its era; the host it builds must run in that profile
    expect(
      session.hosts.every((h) => h.kernel === kernelOf(file)),
      `${file}: host profile`,
    ).toBe(true);
  });
});
