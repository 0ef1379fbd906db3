/**
 * TypeScript scenario → JavaScript for the sandbox, keeping every position of the original file.
 *
 * Choice: amaro (swc's strip-only mode), not sucrase. Measured on the 55 conformance files:
 * - amaro replaces every type annotation with blanks, so the output has exactly the input's length and
 *   every token keeps its line AND column: runtime errors and call-site lines reported by QuickJS are
 *   already positions in the .ts file, with no mapping at all.
 * - sucrase deletes the annotations: lines survive but columns shift on 30 % of lines, so every runtime
 *   column would need a map back (and sucrase's source maps are line-granular).
 * - speed: amaro 18 ms for all 55 files after a 30 ms load, sucrase 84 ms after a 24 ms load.
 * The one place amaro needs help is its own syntax-error column, which is a display column (tabs count 4,
 * wide characters 2); positions.ts converts it. Strip-only rejects TypeScript that needs code generation
 * (enum, namespace, parameter properties) with a clear message: a scenario uses annotations only.
 *
 * Scenario files are scripts (scenario-api.md §5): `import`, `export`, `import()` and `import.meta` are
 * reported here as compile errors at their position; `require` is a guest function that throws.
 */
import amaro from 'amaro';
import { displayToUtf16Column, lineText, positionOfOffset } from './positions.ts';

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
    return { ok: false, source, error: { message: 'internal error: type stripping changed the length of the file', line: 1, column: 1 } };
  }
  const mod = findModuleSyntax(js);
  if (mod) return { ok: false, source, error: { message: MODULE_MESSAGES[mod.what], ...positionOfOffset(source, mod.offset) } };
  return { ok: true, source, js };
}

function swcError(source: string, e: SwcError): CompileError {
  const line = typeof e.startLine === 'number' && e.startLine >= 1 ? e.startLine : 1;
  const column = typeof e.startColumn === 'number' ? displayToUtf16Column(lineText(source, line), e.startColumn) : 1;
  let message = String(e.message ?? e);
  if (e.code === 'UnsupportedSyntax') {
    message += ' (a scenario file may use type annotations only; write a plain object or constants instead)';
  }
  return { message: `SyntaxError: ${message}`, line, column };
}

const MODULE_MESSAGES = {
  import: 'import statements are not available: a scenario file is a script that uses the scenario API globals (createHost, expectOk, …), not a module (scenario-api.md §5)',
  export: 'export is not available: a scenario file is a script, not a module (scenario-api.md §5)',
  'dynamic-import': 'import() is not available in a scenario file: it can use the scenario API only (scenario-api.md §5)',
  'import-meta': 'import.meta is not available: a scenario file is a script, not a module (scenario-api.md §5)',
} as const;

type ModuleSyntax = keyof typeof MODULE_MESSAGES;

/** keywords after which a '/' starts a regular expression rather than a division */
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/**
 * The first `import`/`export` keyword in JavaScript text, skipping comments, strings, template literals
 * and regular expressions. A small scanner, not a parser: `x.import`, `{ import: 1 }` are recognised as
 * property names; a method literally named `import` in a class or object literal would be reported.
 */
export function findModuleSyntax(js: string): { what: ModuleSyntax; offset: number } | null {
  const n = js.length;
  const braces: ('code' | 'template')[] = [];
  // what came before, for the regex-or-division decision and for `.import`
  let prev: string = '';
  let i = 0;

  const skipTemplate = (from: number): number => {
    // from: just after '`' or after the '}' closing a substitution; returns index after the closing '`'
    // or after '${' (pushing a template marker)
    let j = from;
    while (j < n) {
      const c = js[j];
      if (c === '\\') j += 2;
      else if (c === '`') return j + 1;
      else if (c === '$' && js[j + 1] === '{') {
        braces.push('template');
        return j + 2;
      } else j++;
    }
    return n;
  };

  while (i < n) {
    const c = js[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '/' && js[i + 1] === '/') {
      const nl = js.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === '/' && js[i + 1] === '*') {
      const end = js.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && js[j] !== c && js[j] !== '\n') j += js[j] === '\\' ? 2 : 1;
      i = j + 1;
      prev = 'value';
      continue;
    }
    if (c === '`') {
      i = skipTemplate(i + 1);
      prev = 'value';
      continue;
    }
    if (c === '{') {
      braces.push('code');
      prev = c;
      i++;
      continue;
    }
    if (c === '}') {
      if (braces.pop() === 'template') {
        i = skipTemplate(i + 1);
        prev = 'value';
      } else {
        prev = c;
        i++;
      }
      continue;
    }
    if (c === '/') {
      const regex = prev === '' || prev === '}' || '(,=:[!&|?;{+-*%<>~^'.includes(prev) || REGEX_AFTER_WORD.has(prev);
      if (regex) {
        let j = i + 1;
        let inClass = false;
        while (j < n && js[j] !== '\n') {
          const d = js[j];
          if (d === '\\') j++;
          else if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          j++;
        }
        i = j + 1;
        while (i < n && /[\w$]/.test(js[i]!)) i++; // flags
        prev = 'value';
      } else {
        prev = c;
        i++;
      }
      continue;
    }
    if (/[\w$\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$\u0080-\uffff]/.test(js[j]!)) j++;
      const word = js.slice(i, j);
      if ((word === 'import' || word === 'export') && prev !== '.') {
        let k = j;
        while (k < n && /\s/.test(js[k]!)) k++;
        const next = js[k];
        if (next !== ':') {
          if (word === 'export') return { what: 'export', offset: i };
          if (next === '(') return { what: 'dynamic-import', offset: i };
          if (next === '.') return { what: 'import-meta', offset: i };
          return { what: 'import', offset: i };
        }
      }
      prev = /^\d/.test(word) ? 'value' : word;
      i = j;
      continue;
    }
    // `?.` is member access like `.`
    prev = c === '?' && js[i + 1] === '.' ? '.' : c;
    i += c === '?' && js[i + 1] === '.' ? 2 : 1;
  }
  return null;
}
