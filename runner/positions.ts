/**
 * Source positions. Everything the runner reports is `line:column` in the ORIGINAL .ts file, 1-based, with
 * columns counted in UTF-16 code units (what editors such as Monaco and Node's own stack traces use).
 *
 * Two producers count columns differently, and both are converted here:
 * - QuickJS (runtime errors, call-site lines, JS syntax errors) counts code points: an astral character
 *   such as an emoji is one column to QuickJS and two UTF-16 units.
 * - amaro / swc (TypeScript syntax errors) reports a 0-based *display* column: a tab is 4 columns, East
 *   Asian wide characters are 2, an astral character adds 1 more (measured with amaro 1.2.1; see
 *   test/runner/compile.test.ts).
 * Lines are counted on '\n' by both (CRLF files work; a lone '\r' is not a line break to either of them).
 */

export interface Position {
  line: number;
  column: number;
}

/** the text of 1-based line `line` of `source`, without its line terminator ('' when out of range) */
export function lineText(source: string, line: number): string {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  let end = source.indexOf('\n', start);
  if (end < 0) end = source.length;
  if (end > start && source.charCodeAt(end - 1) === 13) end--;
  return source.slice(start, end);
}

/** 1-based code-point column (QuickJS) → 1-based UTF-16 column on that line */
export function codePointToUtf16Column(text: string, column: number): number {
  let cp = 1;
  let i = 0;
  while (cp < column && i < text.length) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    cp++;
  }
  return i + 1 + (column - cp); // past the end of the line: keep counting one unit per column
}

/** swc's display width of one code point (tab 4, wide 2, combining marks 0, +1 for an astral character) */
function displayWidth(cp: number): number {
  if (cp === 9) return 4;
  const astral = cp > 0xffff ? 1 : 0;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfeff) return astral;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return (wide ? 2 : 1) + astral;
}

/** 0-based swc display column → 1-based UTF-16 column on that line */
export function displayToUtf16Column(text: string, displayColumn: number): number {
  let width = 0;
  let i = 0;
  while (i < text.length && width < displayColumn) {
    const cp = text.codePointAt(i)!;
    width += displayWidth(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return i + 1 + Math.max(0, displayColumn - width);
}

/** 0-based UTF-16 offset in `source` → 1-based line and UTF-16 column */
export function positionOfOffset(source: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let nl = source.indexOf('\n'); nl >= 0 && nl < offset; nl = source.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
