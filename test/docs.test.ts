/**
 * The newcomer's docs match the tree (issue 6): every file or folder that docs/architecture.md,
 * CONTRIBUTING.md and renderer/README.md name in backticks exists, the test hooks renderer/README.md
 * promises are in the renderer, and its command table is the table of common/commands.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMAND_ALIASES, COMMANDS } from '../common/commands.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['docs/architecture.md', 'CONTRIBUTING.md', 'renderer/README.md'];

/** every file and folder of the tree (repository-relative, folders with a trailing slash) */
function walk(dir = '', out: string[] = []): string[] {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (['node_modules', '.git', 'out', 'dist', 'test-results'].includes(e.name)) continue;
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.push(`${rel}/`);
      walk(rel, out);
    } else out.push(rel);
  }
  return out;
}
const TREE = walk();
const BASENAMES = new Set(TREE.filter((p) => !p.endsWith('/')).map((p) => basename(p)));

/** names that are not files of this tree, on purpose */
const ELSEWHERE = [
  /^(kernel-model|scenario-api)\.md$/, // the shared specs, beside the repository (../shared/spec/)
  /\.[ch]$/, // kernel sources the engine twins
  /^local\//, // ESLint rule ids
  /^(out|dist|test-results)\//, // build and test output
];

/** the backticked tokens of a doc that name a file or folder */
export function pathTokens(text: string): string[] {
  return (
    [...text.matchAll(/`([^`\n]+)`/g)]
      .map((m) => m[1]!)
      // not prose, URLs, options, globs, machine paths (`/usr/bin/chromium`) or the shared specs' `../`
      .filter((t) => !/[\s:<>*=?]/.test(t) && !/^(\.\.\/|-|\/)/.test(t))
      .filter((t) => t.includes('/') || /\.(ts|vue|js|mjs|cjs|json|md|css|html)$/.test(t))
  );
}

function exists(doc: string, token: string): boolean {
  const t = token.replace(/\/$/, '');
  if (ELSEWHERE.some((re) => re.test(token))) return true;
  if (!t.includes('/'))
    return token.endsWith('/') ? TREE.some((p) => p.endsWith(`/${t}/`) || p === `${t}/`) : BASENAMES.has(t);
  // from the root, from the doc's folder, or a path inside some folder (`composables/x.ts` in src/)
  if (existsSync(join(ROOT, t)) || existsSync(join(ROOT, dirname(doc), t))) return true;
  return TREE.some((p) => p.replace(/\/$/, '').endsWith(`/${t}`));
}

describe('the docs name what exists', () => {
  it.each(DOCS)('%s: every path it names is in the tree', (doc) => {
    const tokens = pathTokens(readFileSync(join(ROOT, doc), 'utf8'));
    expect(tokens.length).toBeGreaterThan(5);
    expect(tokens.filter((t) => !exists(doc, t))).toEqual([]);
  });

  it('the check itself reports a missing path', () => {
    const tokens = pathTokens(
      'see `engine/no-such-file.ts`, `NoSuch.vue`, `gone/`, `renderer/src/App.vue`, `host/`, `App.vue` and `a b`',
    );
    expect(tokens).toEqual([
      'engine/no-such-file.ts',
      'NoSuch.vue',
      'gone/',
      'renderer/src/App.vue',
      'host/',
      'App.vue',
    ]);
    expect(tokens.filter((t) => !exists('docs/architecture.md', t))).toEqual([
      'engine/no-such-file.ts',
      'NoSuch.vue',
      'gone/',
    ]);
  });
});

describe('renderer/README.md', () => {
  const readme = readFileSync(join(ROOT, 'renderer/README.md'), 'utf8');
  const section = (title: string) => {
    const start = readme.indexOf(`## ${title}`);
    expect(start, title).toBeGreaterThanOrEqual(0);
    const end = readme.indexOf('\n## ', start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };

  it('lists every command of common/commands.ts in its table, and no other id', () => {
    const rows = [...section('Commands and shortcuts').matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]!);
    expect([...rows].sort()).toEqual(COMMANDS.map((c) => c.id).sort());
    // the aliases it names are aliases
    const text = section('Commands and shortcuts');
    for (const a of ['run', 'select-event', 'open-palette'])
      if (text.includes(`\`${a}\``)) expect(COMMAND_ALIASES[a], a).toBeDefined();
  });

  it('every data-testid its test hooks name is in the renderer', () => {
    const src = TREE.filter((p) => p.startsWith('renderer/src/') && /\.(vue|ts)$/.test(p))
      .map((p) => readFileSync(join(ROOT, p), 'utf8'))
      .join('\n');
    const hooks = section('Test hooks');
    const para = hooks.slice(hooks.indexOf('`data-testid`'), hooks.indexOf('Panes carry'));
    const ids = [...para.matchAll(/`([a-z][a-z0-9-]*)`/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(20);
    const named = (id: string) =>
      src.includes(`data-testid="${id}"`) || src.includes(`testid: '${id}'`) || src.includes(`'${id}'`);
    const attrs = ['data-testid', 'data-seq', 'data-index', 'differs'];
    expect(ids.filter((id) => !attrs.includes(id) && !named(id))).toEqual([]);
  });
});
