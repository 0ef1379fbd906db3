/**
 * A small JavaScript tokenizer for the runner's source passes (module syntax check, call-site
 * instrumentation). Not a parser: it knows comments, strings, template literals with substitutions,
 * regular expressions (decided by the previous token) and the punctuators those passes look at
 * (`( ) [ ] { } , . ?. => ... ;`); every other character is a one-character punctuator.
 */

export type TokenType =
  'word' | 'punct' | 'string' | 'regex' | 'template' | 'template-head' | 'template-middle' | 'template-tail';

export interface Token {
  type: TokenType;
  /** the punctuator or word; '' for strings, regexes and template chunks */
  value: string;
  start: number;
  end: number;
}

/** keywords after which a '/' starts a regular expression rather than a division */
const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

const WORD = /[\w$\u0080-\uffff]/;

/** keywords whose parenthesised part is followed by a statement, which may start with a regex */
const PAREN_KEYWORDS = new Set(['if', 'while', 'for', 'with']);

/** is the last token a property name (`x.if`)? */
function isMemberName(tokens: readonly Token[]): boolean {
  const t = tokens[tokens.length - 2];
  return t !== undefined && t.type === 'punct' && (t.value === '.' || t.value === '?.');
}

export function tokenize(js: string): Token[] {
  const n = js.length;
  const tokens: Token[] = [];
  const braces: ('code' | 'template')[] = [];
  // for each open '(': does it follow if/while/for/with? After its ')' a '/' starts a regular expression
  // (`if (x) /re/.test(s)`); after any other ')' it is a division (`(a + b) / 2`).
  const parens: boolean[] = [];
  let closedKeywordParen = false;
  let i = 0;

  const push = (type: TokenType, value: string, start: number, end: number): void => {
    tokens.push({ type, value, start, end });
  };
  /** scans a template chunk starting after '`' or after the '}' of a substitution */
  const chunk = (start: number, from: number, continued: boolean): number => {
    let j = from;
    while (j < n) {
      const c = js[j];
      if (c === '\\') j += 2;
      else if (c === '`') {
        push(continued ? 'template-tail' : 'template', '', start, j + 1);
        return j + 1;
      } else if (c === '$' && js[j + 1] === '{') {
        push(continued ? 'template-middle' : 'template-head', '', start, j + 2);
        braces.push('template');
        return j + 2;
      } else j++;
    }
    push(continued ? 'template-tail' : 'template', '', start, n);
    return n;
  };
  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.type === 'word') return REGEX_AFTER_WORD.has(prev.value);
    if (prev.type === 'punct') return prev.value === ')' ? closedKeywordParen : prev.value !== ']';
    return prev.type === 'template-head' || prev.type === 'template-middle';
  };

  while (i < n) {
    const c = js[i]!;
    if (
      c === ' ' ||
      c === '\t' ||
      c === '\n' ||
      c === '\r' ||
      c === '\f' ||
      c === '\v' ||
      c === '\u00a0' ||
      c === '\ufeff'
    ) {
      i++;
    } else if (c === '/' && js[i + 1] === '/') {
      const nl = js.indexOf('\n', i);
      i = nl < 0 ? n : nl;
    } else if (c === '/' && js[i + 1] === '*') {
      const end = js.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && js[j] !== c && js[j] !== '\n') j += js[j] === '\\' ? 2 : 1;
      push('string', '', i, Math.min(j + 1, n));
      i = j + 1;
    } else if (c === '`') {
      i = chunk(i, i + 1, false);
    } else if (c === '}' && braces[braces.length - 1] === 'template') {
      braces.pop();
      i = chunk(i, i + 1, true);
    } else if (c === '/' && regexAllowed()) {
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
      j++;
      while (j < n && WORD.test(js[j]!)) j++; // flags
      push('regex', '', i, j);
      i = j;
    } else if (WORD.test(c)) {
      let j = i + 1;
      while (j < n && WORD.test(js[j]!)) j++;
      // a number like 1.5e+3 is one word enough for these passes; its '.' is not member access
      if (/\d/.test(c)) while (j < n && /[\w.]/.test(js[j]!)) j++;
      push('word', js.slice(i, j), i, j);
      i = j;
    } else {
      let value = c;
      if (c === '.' && js[i + 1] === '.' && js[i + 2] === '.') value = '...';
      else if (c === '?' && js[i + 1] === '.' && !/\d/.test(js[i + 2] ?? '')) value = '?.';
      else if (c === '=' && js[i + 1] === '>') value = '=>';
      else if (c === '{') braces.push('code');
      else if (c === '}') braces.pop();
      else if (c === '(') {
        const prev = tokens[tokens.length - 1];
        parens.push(prev?.type === 'word' && PAREN_KEYWORDS.has(prev.value) && !isMemberName(tokens));
      } else if (c === ')') closedKeywordParen = parens.pop() ?? false;
      push('punct', value, i, i + value.length);
      i += value.length;
    }
  }
  return tokens;
}

/**
 * For every opening token (`(`, `[`, `{`, a template head or middle), the index of the token that closes
 * it; -1 where the source is unbalanced.
 */
export function matchBrackets(tokens: readonly Token[]): Int32Array {
  const match = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const opens =
      (t.type === 'punct' && (t.value === '(' || t.value === '[' || t.value === '{')) ||
      t.type === 'template-head';
    const closes =
      (t.type === 'punct' && (t.value === ')' || t.value === ']' || t.value === '}')) ||
      t.type === 'template-tail';
    if (t.type === 'template-middle') {
      const o = stack.pop();
      if (o !== undefined) match[o] = i;
      stack.push(i);
    } else if (opens) stack.push(i);
    else if (closes) {
      const o = stack.pop();
      if (o !== undefined) match[o] = i;
    }
  }
  return match;
}
