/**
 * `local/code-layering`: which folder may import which, in the shape of VS Code's `code-layering` rule.
 * Each layer names the folders and packages its files may import; an import of anything else (a relative
 * path into another top-level folder, a package, a `node:` built-in) is reported as "bad layering" with
 * the rule that forbids it. Type-only imports may also reach the folders in `types`.
 *
 * Options: `{ root, layers: { [folder]: { allow: string[], types?: string[], packages?: string[] } } }`.
 * `allow` and `types` are top-level folders of the repository; `packages` are package names or prefixes
 * ending in `*` (`node:*`, `monaco-editor*`). Files outside every listed layer are not checked.
 */
import { dirname, relative, resolve, sep } from 'node:path';

/** the top-level folder of a repository-relative path, or null for files at the top */
function topFolder(rel) {
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : null;
}

function matchesPackage(spec, patterns) {
  return patterns.some((p) =>
    p.endsWith('*') ? spec.startsWith(p.slice(0, -1)) : spec === p || spec.startsWith(`${p}/`),
  );
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'keep each top-level folder to the layers and packages it may import' },
    schema: [
      {
        type: 'object',
        properties: { root: { type: 'string' }, layers: { type: 'object' } },
        required: ['root', 'layers'],
        additionalProperties: false,
      },
    ],
    messages: {
      badLayer:
        'Bad layering: {{from}}/ may not import {{to}}/ ("{{spec}}"); {{from}}/ may import {{allowed}}. See docs/architecture.md.',
      badTypeLayer:
        'Bad layering: {{from}}/ may import only types from {{to}}/ ("{{spec}}"): use `import type`. See docs/architecture.md.',
      badPackage:
        'Bad layering: {{from}}/ may not use the package "{{spec}}"; its packages are {{packages}}. See docs/architecture.md.',
    },
  },
  create(context) {
    const { root, layers } = context.options[0];
    const file = context.physicalFilename ?? context.filename;
    const rel = relative(root, file);
    const from = topFolder(rel);
    const layer = from && layers[from];
    if (!layer) return {};
    const allow = new Set([from, ...layer.allow]);
    const types = new Set(layer.types ?? []);
    const packages = layer.packages ?? [];

    function check(node, spec, typeOnly) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const target = relative(root, resolve(dirname(file), spec.split('?')[0]));
        const to = topFolder(target);
        if (!to || allow.has(to)) return;
        if (types.has(to)) {
          if (!typeOnly) context.report({ node, messageId: 'badTypeLayer', data: { from, to, spec } });
          return;
        }
        context.report({
          node,
          messageId: 'badLayer',
          data: { from, to, spec, allowed: [...allow].map((a) => `${a}/`).join(', ') },
        });
        return;
      }
      if (!matchesPackage(spec, packages))
        context.report({
          node,
          messageId: 'badPackage',
          data: { from, spec, packages: packages.length ? packages.join(', ') : 'none' },
        });
    }

    const isTypeOnly = (node) =>
      node.importKind === 'type' ||
      node.exportKind === 'type' ||
      (node.specifiers?.length > 0 &&
        node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value, isTypeOnly(node)),
      ExportNamedDeclaration: (node) =>
        node.source && check(node.source, node.source.value, isTypeOnly(node)),
      ExportAllDeclaration: (node) => check(node.source, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) =>
        node.source.type === 'Literal' && check(node.source, node.source.value, false),
      TSImportType: (node) => {
        const lit = node.argument?.literal ?? node.argument;
        if (lit?.type === 'Literal') check(lit, lit.value, true);
      },
      CallExpression: (node) => {
        if (
          node.callee.type === 'Identifier' &&
          node.callee.name === 'require' &&
          node.arguments[0]?.type === 'Literal'
        )
          check(node.arguments[0], node.arguments[0].value, false);
      },
    };
  },
};
