/**
 * Call-site lines without stack traces. Every engine call must know the scenario line it came from. Asking
 * QuickJS (`new Error().stack` in the API method) costs about 1.3 µs per call, more per extra frame, and
 * grows with the size of the calling function (7 µs from the end of a 1,000-line script: QuickJS decodes
 * the line table from the function's start). This pass instead marks every call in the scenario:
 *
 *     C.mapDma({ vaddr: R })      →   C.mapDma(__dmawbL({ vaddr: R }, 12))
 *     C.enable()                  →   C.enable(...__dmawbE(13))
 *
 * `__dmawbL(value, line)` stores the line and returns the value, so the mark runs after every other
 * argument and right before the call: nested calls on other lines have already run, and calls made inside
 * helper functions mark their own lines. `__dmawbE(line)` returns an empty array, so a call without
 * arguments keeps its arity. The API methods read the stored line (prelude.ts); about 30 ns per call.
 *
 * Only characters are inserted, never line breaks, so lines stay the same and ColumnMap maps columns back
 * for error positions. The pass finds calls with tokens.ts: a `(` after a name (not a keyword), `)`, `]`
 * or `?.`, whose `)` is not followed by `{` or `=>` (definitions and arrow functions). If its output does
 * not compile, or the scenario uses the mark names itself, the runner falls back to stack-based lines
 * (sandbox.ts), so a misread never changes what a scenario does. Calls not written as calls (setters, tagged templates) are not marked: setters look up
 * their line on the stack (prelude.ts).
 */
import { matchBrackets, tokenize, type Token } from './tokens.ts';

export const LINE_MARK = '__dmawbL';
export const EMPTY_MARK = '__dmawbE';
/** wraps the body of an async function so that it returns the tracked Promise of prelude.ts */
export const ASYNC_MARK = '__dmawbA';
/** runs once a loop iteration, in the loop's condition or body: `while (__dmawbS(12, 3), x)` (loopMarks) */
export const LOOP_MARK = '__dmawbS';

/** words that put `(` in a non-call position: `if (`, `return (`, `typeof (` … */
const KEYWORDS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'with',
  'return',
  'typeof',
  'void',
  'delete',
  'in',
  'of',
  'instanceof',
  'new',
  'function',
  'do',
  'else',
  'case',
  'throw',
  'yield',
  'await',
  'class',
  'extends',
  'const',
  'let',
  'var',
]);

interface Insertion {
  offset: number;
  text: string;
  /** at equal offsets, closing marks go before opening ones */
  order: 0 | 1;
}

export interface Instrumented {
  js: string;
  map: ColumnMap;
  calls: number;
}

/** null when the scenario itself uses the mark names (then the runner uses stack-based lines) */
export function instrument(js: string): Instrumented | null {
  const tokens = tokenize(js);
  if (
    tokens.some(
      (t) =>
        t.type === 'word' &&
        (t.value === LINE_MARK || t.value === EMPTY_MARK || t.value === ASYNC_MARK || t.value === LOOP_MARK),
    )
  )
    return null;
  const match = matchBrackets(tokens);
  const lineStarts = [0];
  for (let i = js.indexOf('\n'); i >= 0; i = js.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  const insertions: Insertion[] = [];
  let calls = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!isPunct(t, '(') || match[i]! < 0 || !isCallee(tokens, i)) continue;
    const close = match[i]!;
    const after = tokens[close + 1];
    if (after && (isPunct(after, '{') || isPunct(after, '=>'))) continue;
    const line = lineOf(t.start);
    calls++;
    const arg = lastArgument(tokens, match, i, close);
    if (!arg) {
      insertions.push({ offset: t.end, text: `...${EMPTY_MARK}(${line})`, order: 1 });
      continue;
    }
    const first = isPunct(tokens[arg.first]!, '...') ? arg.first + 1 : arg.first;
    if (first > arg.last) continue; // `f(...)` alone: nothing to wrap
    insertions.push({ offset: tokens[first]!.start, text: `${LINE_MARK}(`, order: 1 });
    insertions.push({ offset: tokens[arg.last]!.end, text: `, ${line})`, order: 0 });
  }

  loopMarks(tokens, match, lineOf, (line) => lineStarts[line - 1]!, insertions);
  const blanked = asyncBodies(tokens, match, insertions);
  if (blanked.length > 0) {
    // `async` becomes blanks of the same length: offsets, lines and columns stay what they were
    let t = '';
    let from = 0;
    for (const at of blanked) {
      t += js.slice(from, at) + '     ';
      from = at + 5;
    }
    js = t + js.slice(from);
  }

  insertions.sort((a, b) => a.offset - b.offset || a.order - b.order);
  let out = '';
  let at = 0;
  for (const ins of insertions) {
    out += js.slice(at, ins.offset) + ins.text;
    at = ins.offset;
  }
  out += js.slice(at);
  return { js: out, map: new ColumnMap(js, lineStarts, insertions), calls };
}

/**
 * Where a Stop or the time budget interrupts a loop. QuickJS records source positions only for calls and
 * a few operators, and a loop interrupted at its back edge reports the last position *before* the loop:
 * `for (;;) {}` or `while (x) n++` would be blamed on the API call before it, or on the start of the
 * enclosing function. So every loop runs a mark once an iteration, in its condition where it has one,
 * else at the start of its block body:
 *
 *     while (x) n++              →   while (__dmawbS(7, 1), x) n++
 *     for (let i = 0; i < n; i++) →   for (let i = 0; __dmawbS(8, 1), i < n; i++)
 *     for (;;) {}                →   for (;__dmawbS(9, 1), true;) {}
 *     for (const x of xs) { … }  →   for (const x of xs) {__dmawbS(10, 1); … }
 *     do { … } while (x)         →   do {__dmawbS(11, 1); … } while (__dmawbS(11, 12), x)
 *
 * The mark stores the loop's line and keyword column as the last marked line and as the last loop entry
 * (prelude.ts). When a stopped run's last mark is a loop's, no call has started since, so the runner names
 * that loop (sandbox.ts stoppedAt). About 30 ns an iteration. `for … in/of` with a body that is a single
 * statement without braces gets no mark: its stop names what QuickJS reports.
 */
function loopMarks(
  tokens: readonly Token[],
  match: Int32Array,
  lineOf: (offset: number) => number,
  lineStart: (line: number) => number,
  insertions: Insertion[],
): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'word' || (t.value !== 'for' && t.value !== 'while' && t.value !== 'do')) continue;
    const prev = tokens[i - 1];
    if (prev && (isPunct(prev, '.') || isPunct(prev, '?.'))) continue; // x.for, x?.while
    const line = lineOf(t.start);
    const mark = `${LOOP_MARK}(${line}, ${t.start - lineStart(line) + 1})`;
    let body = i + 1;
    if (t.value !== 'do') {
      let open = i + 1;
      if (t.value === 'for' && tokens[open]?.type === 'word' && tokens[open]!.value === 'await') open++;
      if (!tokens[open] || !isPunct(tokens[open]!, '(') || match[open]! < 0) continue;
      const close = match[open]!;
      if (t.value === 'while') {
        if (close > open + 1) insertions.push({ offset: tokens[open]!.end, text: `${mark}, `, order: 1 });
        continue;
      }
      // for (init; condition; update): the first `;` at the top level of the parentheses
      let semi = -1;
      for (let j = open + 1; j < close; j++) {
        if (match[j]! > j) j = match[j]!;
        else if (isPunct(tokens[j]!, ';')) {
          semi = j;
          break;
        }
      }
      if (semi >= 0) {
        const empty = tokens[semi + 1] !== undefined && isPunct(tokens[semi + 1]!, ';');
        insertions.push({ offset: tokens[semi]!.end, text: empty ? `${mark}, true` : `${mark}, `, order: 1 });
        continue;
      }
      body = close + 1; // for … in / of
    }
    const brace = tokens[body];
    if (!brace || !isPunct(brace, '{') || match[body]! < 0) continue;
    insertions.push({ offset: brace.end, text: `${mark};`, order: 1 });
  }
}

/**
 * Async functions with a block body return an intrinsic promise whose rejection no scenario code can
 * observe. Each becomes a plain function that runs its body as an async arrow (same `this`, `arguments`,
 * `super`) and returns the prelude's tracked Promise:
 *
 *     async function f(a) { BODY }   →   function f(a) { return __dmawbA(async () => { BODY }) }
 *
 * (methods and `async (a) => { … }` alike). Async generators and arrows with an expression body are left
 * as they are. Returns the offsets of the `async` keywords to blank out; pushes the insertions.
 */
function asyncBodies(tokens: readonly Token[], match: Int32Array, insertions: Insertion[]): number[] {
  const blanked: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'word' || t.value !== 'async') continue;
    const prev = tokens[i - 1];
    if (prev && (isPunct(prev, '.') || isPunct(prev, '?.'))) continue;
    const next = tokens[i + 1];
    if (!next) continue;
    let body = -1;
    if (next.type === 'word' && next.value === 'function') {
      // async function [name] ( … ) {
      let j = i + 2;
      if (tokens[j] && isPunct(tokens[j]!, '*')) continue;
      if (tokens[j]?.type === 'word') j++;
      if (!tokens[j] || !isPunct(tokens[j]!, '(') || match[j]! < 0) continue;
      body = match[j]! + 1;
    } else if (isPunct(next, '(') && match[i + 1]! > 0) {
      // async ( … ) => {
      const close = match[i + 1]!;
      if (!tokens[close + 1] || !isPunct(tokens[close + 1]!, '=>')) continue;
      body = close + 2;
    } else if (next.type === 'word' && tokens[i + 2] && isPunct(tokens[i + 2]!, '=>')) {
      // async x => {
      body = i + 3;
    } else if (next.type === 'word' || next.type === 'string' || isPunct(next, '[')) {
      // a method: async name ( … ) {   or   async [key] ( … ) {
      let j = i + 1;
      if (isPunct(next, '[')) {
        if (match[j]! < 0) continue;
        j = match[j]!;
      }
      j++;
      if (!tokens[j] || !isPunct(tokens[j]!, '(') || match[j]! < 0) continue;
      body = match[j]! + 1;
    }
    const open = tokens[body];
    if (body < 0 || !open || !isPunct(open, '{') || match[body]! < 0) continue;
    const close = tokens[match[body]!]!;
    blanked.push(t.start);
    insertions.push({ offset: open.end, text: `return ${ASYNC_MARK}(async () => {`, order: 1 });
    insertions.push({ offset: close.start, text: '})', order: 0 });
  }
  return blanked;
}

function isPunct(t: Token, v: string): boolean {
  return t.type === 'punct' && t.value === v;
}

/** is the `(` at i the argument list of a call? */
function isCallee(tokens: readonly Token[], i: number): boolean {
  const prev = tokens[i - 1];
  if (!prev) return false;
  if (prev.type === 'word') {
    const beforePrev = tokens[i - 2];
    const isMember = beforePrev !== undefined && (isPunct(beforePrev, '.') || isPunct(beforePrev, '?.'));
    return isMember || !KEYWORDS.has(prev.value);
  }
  if (prev.type === 'punct') return prev.value === ')' || prev.value === ']' || prev.value === '?.';
  return prev.type === 'template' || prev.type === 'template-tail';
}

/** token range of the last argument between `(` at open and `)` at close, or null for no arguments */
function lastArgument(
  tokens: readonly Token[],
  match: Int32Array,
  open: number,
  close: number,
): { first: number; last: number } | null {
  const segments: { first: number; last: number }[] = [];
  let first = open + 1;
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j]!;
    if (match[j]! > j) {
      j = match[j]!; // skip a nested bracket or template substitution
      continue;
    }
    if (isPunct(t, ',')) {
      segments.push({ first, last: j - 1 });
      first = j + 1;
    }
  }
  segments.push({ first, last: close - 1 });
  for (let k = segments.length - 1; k >= 0; k--)
    if (segments[k]!.first <= segments[k]!.last) return segments[k]!;
  return null;
}

/** Maps columns of the instrumented text back to the original (lines are the same in both). */
export class ColumnMap {
  /** per line (1-based): insertions as [original column (0-based UTF-16), length] in order */
  private readonly byLine = new Map<number, [number, number][]>();

  constructor(
    private readonly original: string,
    lineStarts: readonly number[],
    insertions: readonly Insertion[],
  ) {
    let line = 1;
    for (const ins of insertions) {
      while (line < lineStarts.length && lineStarts[line]! <= ins.offset) line++;
      let list = this.byLine.get(line);
      if (!list) this.byLine.set(line, (list = []));
      list.push([ins.offset - lineStarts[line - 1]!, ins.text.length]);
    }
  }

  /** 1-based UTF-16 column of the instrumented line → 1-based UTF-16 column of the original line */
  toOriginal(line: number, column: number): number {
    const list = this.byLine.get(line);
    if (!list) return column;
    const g = column - 1;
    let shift = 0;
    for (const [col, len] of list) {
      const start = col + shift;
      if (g < start) break;
      if (g < start + len) return col + 1; // inside a mark: the position it was inserted at
      shift += len;
    }
    return g - shift + 1;
  }

  /** the original source (for converting code-point columns) */
  get source(): string {
    return this.original;
  }
}
