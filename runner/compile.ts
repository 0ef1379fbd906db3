/**
 * TypeScript scenario → JavaScript for the sandbox, keeping every position of the original file.
 *
 * Choice: amaro (swc's strip-only mode), not sucrase. Measured here:
 * - amaro replaces every type annotation with blanks, so the output has exactly the input's length and
 *   every token keeps its line AND column: runtime errors and call-site lines reported by QuickJS are
 *   already positions in the .ts file, with no mapping at all.
 * - sucrase deletes the annotations: lines survive but columns move on every annotated line (10-12 % of
 *   the lines of this repository's typed code; the conformance files have almost no annotations), so
 *   every runtime column would need a map back, and sucrase's source maps are line-granular.
 * - speed: amaro 18 ms for the 55 conformance files after a 30 ms load, sucrase 84 ms after 24 ms.
 * The one place amaro needs help is its own syntax-error column, which is a display column (tabs count 4,
 * wide characters 2); positions.ts converts it. Strip-only rejects TypeScript that needs code generation
 * (enum, namespace, parameter properties) with a clear message: a scenario uses annotations only.
 *
 * Scenario files are scripts (scenario-api.md §5): `import`, `export`, `import()` and `import.meta` are
 * reported here as compile errors at their position; `require` is a guest function that throws.
 */
import amaro from 'amaro';
import { displayToUtf16Column, lineText, positionOfOffset } from './positions.ts';
import { tokenize } from './tokens.ts';

export interface CompileError {
  message: string;
  line: number;
  column: number;
}

export type CompileResult =
  | { ok: true; /** the source the positions refer to (a leading BOM removed) */ source: string; js: string }
  | { ok: false; source: string; error: CompileError };

interface SwcError {
  code?: string;
  message?: string;
  startLine?: number;
  startColumn?: number;
}

export function compileScenario(input: string): CompileResult {
  // Editors do not count a byte-order mark as a column; drop it so line 1 columns match theirs.
  const source = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  let js: string;
  try {
    js = amaro.transformSync(source, { mode: 'strip-only' }).code;
  } catch (e) {
    return { ok: false, source, error: swcError(source, e as SwcError) };
  }
  if (js.length !== source.length) {
    // Cannot happen with strip-only; if a future amaro changes that, positions would silently drift.
    return {
      ok: false,
      source,
      error: { message: 'internal error: type stripping changed the length of the file', line: 1, column: 1 },
    };
  }
  const mod = findModuleSyntax(js);
  if (mod)
    return {
      ok: false,
      source,
      error: { message: MODULE_MESSAGES[mod.what], ...positionOfOffset(source, mod.offset) },
    };
  return { ok: true, source, js };
}

function swcError(source: string, e: SwcError): CompileError {
  const line = typeof e.startLine === 'number' && e.startLine >= 1 ? e.startLine : 1;
  const column =
    typeof e.startColumn === 'number' ? displayToUtf16Column(lineText(source, line), e.startColumn) : 1;
  let message = String(e.message ?? e);
  if (e.code === 'UnsupportedSyntax') {
    message += ' (a scenario file may use type annotations only; write a plain object or constants instead)';
  }
  return { message: `SyntaxError: ${message}`, line, column };
}

const MODULE_MESSAGES = {
  import:
    'import statements are not available: a scenario file is a script that uses the scenario API globals (createHost, expectOk, …), not a module (scenario-api.md §5)',
  export: 'export is not available: a scenario file is a script, not a module (scenario-api.md §5)',
  'dynamic-import':
    'import() is not available in a scenario file: it can use the scenario API only (scenario-api.md §5)',
  'import-meta':
    'import.meta is not available: a scenario file is a script, not a module (scenario-api.md §5)',
} as const;

type ModuleSyntax = keyof typeof MODULE_MESSAGES;

/**
 * The first `import`/`export` keyword in JavaScript text (tokens.ts skips comments, strings, templates
 * and regular expressions). `x.import` and `{ import: 1 }` are property names; a method literally named
 * `import` in a class or object literal would be reported.
 */
export function findModuleSyntax(js: string): { what: ModuleSyntax; offset: number } | null {
  const tokens = tokenize(js);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'word' || (t.value !== 'import' && t.value !== 'export')) continue;
    const prev = tokens[i - 1];
    if (prev?.type === 'punct' && (prev.value === '.' || prev.value === '?.')) continue;
    const next = tokens[i + 1];
    if (next?.type === 'punct' && next.value === ':') continue;
    if (t.value === 'export') return { what: 'export', offset: t.start };
    if (next?.type === 'punct' && next.value === '(') return { what: 'dynamic-import', offset: t.start };
    if (next?.type === 'punct' && next.value === '.') return { what: 'import-meta', offset: t.start };
    return { what: 'import', offset: t.start };
  }
  return null;
}
