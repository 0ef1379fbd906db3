import { describe, expect, it } from 'vitest';
import { compileScenario, findModuleSyntax } from '../../runner/compile.ts';
import {
  codePointToUtf16Column,
  displayToUtf16Column,
  lineText,
  positionOfOffset,
} from '../../runner/positions.ts';

function errorOf(source: string) {
  const r = compileScenario(source);
  if (r.ok) throw new Error('expected a compile error');
  return r.error;
}

describe('compileScenario: TypeScript → JavaScript with every position kept', () => {
  it('strips types to blanks: same length, every token at its column', () => {
    const src =
      'const a: bigint = 1n;\nfunction f<T>(x: T, y?: number): T { return x as T; }\nconst z = f<number>(3)!;\n';
    const r = compileScenario(src);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.js.length).toBe(src.length);
    expect(r.js.split('\n').map((l) => l.trimEnd())).toEqual([
      'const a         = 1n;',
      'function f   (x   , y         )    { return x     ; }',
      'const z = f        (3) ;',
      '',
    ]);
    // the token `return` is at the same offset in both
    expect(r.js.indexOf('return')).toBe(src.indexOf('return'));
  });

  it('reports a TypeScript syntax error at its line and column', () => {
    expect(errorOf('const ok = 1;\nconst a = ;\n')).toEqual({
      message: 'SyntaxError: Expression expected',
      line: 2,
      column: 11,
    });
  });

  it('counts columns in UTF-16 units even where amaro counts display width (tabs, wide, astral)', () => {
    expect(errorOf('\t\tconst a = ;').column).toBe(13);
    expect(errorOf('"中文"; const a = ;').column).toBe(17);
    expect(errorOf('"😀"; const a = ;').column).toBe(17);
    expect(errorOf('"é"; const a = ;').column).toBe(16);
  });

  it('keeps line 1 columns as editors count them when the file starts with a byte-order mark', () => {
    const r = compileScenario('\uFEFFconst a = ;');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.column).toBe(11);
  });

  it('rejects TypeScript that needs code generation with a clear message', () => {
    const e = errorOf('\nenum E { A }\n');
    expect(e.line).toBe(2);
    expect(e.column).toBe(1);
    expect(e.message).toMatch(/enum is not supported/);
    expect(e.message).toMatch(/type annotations only/);
  });

  it.each([
    ['import fs from "fs";', 'import statements are not available'],
    ['import { x } from "./other.ts";', 'import statements are not available'],
    ['export const a = 1;', 'export is not available'],
    ['const m = import("fs");', 'import() is not available'],
    ['const u = import.meta.url;', 'import.meta is not available'],
  ])('reports module syntax as a compile error: %s', (code, message) => {
    const e = errorOf(`const before = 1;\n  ${code}\n`);
    expect(e.message).toContain(message);
    expect(e.message).toContain('scenario-api.md §5');
    expect(e.line).toBe(2);
    expect(e.column).toBe(code.indexOf('import') >= 0 ? 3 + code.indexOf('import') : 3);
  });

  it('accepts type-only imports (they disappear) and the word import where it is not a keyword', () => {
    for (const src of [
      'import type { HostApi } from "../engine/api.ts";\nconst a = 1;',
      'const o = { import: 1, export: 2 };\no.import + o.export;',
      'const s = "import x from y"; // import z\n/* export */ const t = `${s} import(1)`;',
      'const re = /import|export/.test("a");',
      'const x = 1 / 2; const y = x / 3; // import',
    ]) {
      expect(compileScenario(src).ok, src).toBe(true);
    }
  });
});

describe('findModuleSyntax scanner', () => {
  it('skips strings, templates with substitutions, comments and regular expressions', () => {
    expect(findModuleSyntax('`a ${ "import(" + `x ${ 1 }` } b`; /import/g; // export\n')).toBeNull();
    expect(findModuleSyntax('const a = `${ {}.x }`;\nimport("y")')).toEqual({
      what: 'dynamic-import',
      offset: 23,
    });
  });
});

describe('positions', () => {
  it('lineText returns one line without its terminator (CRLF too)', () => {
    expect(lineText('a\r\nbc\r\nd', 2)).toBe('bc');
    expect(lineText('a\nb', 5)).toBe('');
  });

  it('converts QuickJS code-point columns to UTF-16 columns', () => {
    expect(codePointToUtf16Column('"😀"; x', 6)).toBe(7);
    expect(codePointToUtf16Column('abc', 2)).toBe(2);
    expect(codePointToUtf16Column('ab', 5)).toBe(5);
  });

  it('converts amaro display columns to UTF-16 columns', () => {
    expect(displayToUtf16Column('\tx', 4)).toBe(2);
    expect(displayToUtf16Column('中x', 2)).toBe(2);
    expect(displayToUtf16Column('😀x', 3)).toBe(3);
  });

  it('positionOfOffset counts lines on \\n', () => {
    expect(positionOfOffset('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
  });
});
