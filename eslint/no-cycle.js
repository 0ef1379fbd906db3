/**
 * `local/no-cycle`: reports a value import that closes a cycle of value imports between the repository's
 * own modules (type-only imports are erased at build time and cannot cycle at run time, so they are not
 * edges). Written here because eslint-plugin-import-x's no-cycle does not follow `.ts` imports in this
 * flat-config setup and madge's peer range excludes TypeScript 6.
 *
 * The graph is read from the files on disk with a scanner for static `import … from` / `export … from`
 * statements (the code is Prettier-formatted, so statements are regular), cached per ESLint process.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const STATEMENT = /^\s*(import|export)\s+(type\s+)?([\s\S]*?)\s*from\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT = /^\s*import\s+['"]([^'"]+)['"]/gm;
const EXTENSIONS = ['', '.ts', '.vue', '.js', '.mjs', '/index.ts'];

/** the file a relative specifier names, or null (packages, assets, missing files) */
function resolveSpec(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec.split('?')[0]);
  for (const ext of EXTENSIONS) {
    const p = base + ext;
    if (existsSync(p) && statSync(p).isFile()) return /\.(ts|vue|js|mjs)$/.test(p) ? p : null;
  }
  return null;
}

/** specifiers like `{ type A, type B }` import types only */
function typeOnlyClause(clause) {
  const m = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!m) return false;
  const names = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

const edgesCache = new Map();
function edgesOf(file) {
  let edges = edgesCache.get(file);
  if (edges) return edges;
  edges = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* unreadable: no edges */
  }
  for (const m of text.matchAll(STATEMENT)) {
    if (m[2] || typeOnlyClause(m[3])) continue;
    const to = resolveSpec(file, m[4]);
    if (to) edges.push(to);
  }
  for (const m of text.matchAll(SIDE_EFFECT)) {
    const to = resolveSpec(file, m[1]);
    if (to) edges.push(to);
  }
  edgesCache.set(file, edges);
  return edges;
}

/** a path of value imports from `start` back to `target`, or null */
function pathBack(start, target) {
  const seen = new Set([start]);
  const stack = [[start, [start]]];
  while (stack.length) {
    const [node, path] = stack.pop();
    for (const next of edgesOf(node)) {
      if (next === target) return path;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push([next, [...path, next]]);
      }
    }
  }
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'no import cycles between value imports of the repository’s own modules' },
    schema: [],
    messages: { cycle: 'Import cycle: {{cycle}}' },
  },
  create(context) {
    const file = context.physicalFilename ?? context.filename;
    const root = context.cwd;
    function check(node) {
      if (node.importKind === 'type' || node.exportKind === 'type') return;
      if (
        node.specifiers?.length &&
        node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type')
      )
        return;
      const to = node.source && resolveSpec(file, node.source.value);
      if (!to) return;
      const back = pathBack(to, file);
      if (back)
        context.report({
          node: node.source,
          messageId: 'cycle',
          data: { cycle: [file, ...back, file].map((p) => relative(root, p)).join(' → ') },
        });
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};
