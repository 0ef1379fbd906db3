/**
 * docs/kernel/ and the engine's cites stay in step (issue 7 item 4): every function the engine can cite has
 * its section (a heading named after it) in the page engine/cite.ts maps it to, every section is cited or
 * listed in the index as not cited, every page has its era table, and every link between pages resolves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_FILES, docAnchor, docPageOf } from '../../engine/cite.ts';
import { DOCS, docAnchors, engineCites } from '../support/cites.ts';

const anchors = docAnchors();
const { cites, dynamic } = engineCites();
const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
const readme = readFileSync(join(DOCS, 'README.md'), 'utf8');

/** the functions the index lists under "Sections no result cites" (backquoted names) */
function listedUncited(): Set<string> {
  const part = readme.split(/^## Sections no result cites$/m)[1] ?? '';
  return new Set([...part.matchAll(/`([A-Za-z0-9_]+)`/g)].map((m) => docAnchor(m[1]!)));
}

describe('docs/kernel and the engine cites', () => {
  it('the engine builds every cite from a string literal or the era tables (so this scan sees them all)', () => {
    expect(dynamic).toEqual([]);
    expect(cites.length).toBeGreaterThan(60);
  });

  it('every function the engine can cite has its section on its page', () => {
    const missing = cites
      .filter((c) => !anchors.get(docPageOf(c)!)?.has(docAnchor(c.fn)))
      .map((c) => `docs/kernel/${docPageOf(c)}.md#${docAnchor(c.fn)} (${c.file})`);
    expect(missing).toEqual([]);
  });

  it('every section is cited by the engine or listed in the index as not cited', () => {
    const cited = new Set(cites.map((c) => `${docPageOf(c)}#${docAnchor(c.fn)}`));
    const listed = listedUncited();
    const orphans: string[] = [];
    for (const [page, set] of anchors)
      for (const a of set) if (!cited.has(`${page}#${a}`) && !listed.has(a)) orphans.push(`${page}.md#${a}`);
    expect(orphans).toEqual([]);
  });

  it('has one page per kernel area of engine/cite.ts, each with an era table, all in the index', () => {
    const wanted = [...new Set(Object.values(KERNEL_FILES))].map((p) => `${p}.md`).sort();
    expect(pages.filter((p) => p !== 'README.md').sort()).toEqual(wanted);
    for (const p of wanted) {
      const text = readFileSync(join(DOCS, p), 'utf8');
      expect(text, p).toMatch(/^## Era differences$/m);
      expect(text, p).toMatch(/^\|\s*\|\s*4\.2\s*\|\s*5\.x\s*\|\s*mainline\s*\|$/m);
      expect(readme, p).toContain(`](${p})`);
    }
  });

  it('every link between the pages points at a page and a section that exist', () => {
    const broken: string[] = [];
    for (const p of pages) {
      const text = readFileSync(join(DOCS, p), 'utf8');
      for (const m of text.matchAll(/\]\(([a-z0-9-]*\.md)?(?:#([A-Za-z0-9_-]+))?\)/g)) {
        const target = (m[1] ?? p).replace(/\.md$/, '');
        if (m[1] && !pages.includes(m[1])) broken.push(`${p}: ${m[0]}`);
        else if (m[2] && !anchors.get(target)?.has(m[2])) broken.push(`${p}: ${m[0]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
