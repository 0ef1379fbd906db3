/**
 * Engine infrastructure: models no kernel file.
 * Strings with numbers in them, as the event store keeps them (event-codec.ts): the number tokens of a
 * string (decimal, or canonical lowercase hex; not inside a word, not part of a section number such as
 * §4.6.4 or a version such as 4.2) become the holes of an interned template, so a million distinct
 * explanations ("… 1 TCEs in window slot 0 entries 2048–2048 …") share a handful of templates and each
 * keeps only its numbers. A string is scanned by hand and its template looked up by a hash of the literal
 * text, so nothing is allocated per string.
 */

/** a number token: decimal, hex written as a number, hex written as a bigint (more than 13 digits) */
export const TOK_DEC = 0;
export const TOK_HEX = 1;
export const TOK_BIGHEX = 2;

export interface Template {
  /** the literal text around the holes: one more part than holes */
  parts: string[];
  toks: number[];
}

/** at most this many holes a template; a string with more numbers keeps the rest as text */
const MAX_HOLES = 64;

export class StringTemplates {
  private readonly templates: Template[] = [];
  private readonly byHash = new Map<number, number[]>();
  /** an estimate of what the templates hold, in bytes */
  bytes = 0;
  // -- the string just scanned: its holes' kinds and values (bigints in order), literal bounds, hash --
  readonly kinds = new Uint8Array(MAX_HOLES);
  readonly vals = new Float64Array(MAX_HOLES);
  bigs: bigint[] = [];
  private readonly starts = new Int32Array(MAX_HOLES + 1);
  private readonly ends = new Int32Array(MAX_HOLES + 1);
  private hash = 0;

  get(id: number): Template {
    return this.templates[id]!;
  }

  /**
   * Scans s for number tokens: returns how many (0: keep the string whole) and leaves their kinds and
   * values in kinds, vals and bigs until the next scan.
   */
  scan(s: string): number {
    const n = s.length;
    let count = 0;
    let h = 2166136261;
    let litStart = 0;
    this.bigs.length = 0;
    for (let p = 0; p < n;) {
      const ch = s.charCodeAt(p);
      if (ch < 48 || ch > 57 || !tokenMayStart(s, p)) {
        h = Math.imul(h ^ ch, 16777619);
        p++;
        continue;
      }
      // a run of digits, or 0x and hex digits
      let q = p + 1;
      let hex = false;
      if (ch === 48 && s.charCodeAt(p + 1) === 120 && isHexDigit(s.charCodeAt(p + 2))) {
        hex = true;
        q = p + 3;
        while (q < n && isHexDigit(s.charCodeAt(q))) q++;
      } else while (q < n && isDigit(s.charCodeAt(q))) q++;
      const len = q - p;
      // canonical forms only (no leading zeros), so that the text comes back as it was
      let ok = tokenMayEnd(s, q) && count < MAX_HOLES;
      if (ok) {
        if (hex) ok = len === 3 || s.charCodeAt(p + 2) !== 48;
        else ok = len <= 15 && (len === 1 || ch !== 48);
      }
      if (!ok) {
        for (let j = p; j < q; j++) h = Math.imul(h ^ s.charCodeAt(j), 16777619);
        p = q;
        continue;
      }
      let kind: number;
      if (!hex) {
        kind = TOK_DEC;
        let v = 0;
        for (let j = p; j < q; j++) v = v * 10 + (s.charCodeAt(j) - 48);
        this.vals[count] = v;
      } else if (len - 2 <= 13) {
        kind = TOK_HEX;
        let v = 0;
        for (let j = p + 2; j < q; j++) {
          const d = s.charCodeAt(j);
          v = v * 16 + (d <= 57 ? d - 48 : d - 87);
        }
        this.vals[count] = v;
      } else {
        kind = TOK_BIGHEX;
        this.bigs.push(BigInt(s.slice(p, q)));
      }
      h = Math.imul(h ^ (0x10000 + kind), 16777619);
      this.kinds[count] = kind;
      this.starts[count] = litStart;
      this.ends[count] = p;
      litStart = q;
      count++;
      p = q;
    }
    this.starts[count] = litStart;
    this.ends[count] = n;
    this.hash = h >>> 0;
    return count;
  }

  /** the id of the template of the string just scanned (found by its hash and checked part by part) */
  intern(s: string, count: number): number {
    const cands = this.byHash.get(this.hash);
    if (cands) {
      for (const id of cands) {
        const t = this.templates[id]!;
        if (t.toks.length !== count) continue;
        let same = true;
        for (let j = 0; j <= count && same; j++) {
          const part = t.parts[j]!;
          const a = this.starts[j]!;
          same =
            this.ends[j]! - a === part.length &&
            s.startsWith(part, a) &&
            (j === count || t.toks[j] === this.kinds[j]);
        }
        if (same) return id;
      }
    }
    const parts: string[] = [];
    const toks: number[] = [];
    for (let j = 0; j <= count; j++) {
      parts.push(s.slice(this.starts[j], this.ends[j]));
      if (j < count) toks.push(this.kinds[j]!);
    }
    const id = this.templates.length;
    this.templates.push({ parts, toks });
    if (cands) cands.push(id);
    else this.byHash.set(this.hash, [id]);
    this.bytes += 2 * s.length + 64 * (count + 1) + 96;
    return id;
  }
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102);
const isWord = (c: number): boolean =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** a number token may start at p: not inside a word, after §, or after "<digit>." (4.6.4, 4.2) */
function tokenMayStart(s: string, p: number): boolean {
  if (p === 0) return true;
  const b = s.charCodeAt(p - 1);
  if (isWord(b) || b === 0xa7 /* § */) return false;
  return !(b === 46 && p >= 2 && isDigit(s.charCodeAt(p - 2)));
}

/** and may end before q: not followed by a word character or by ".<digit>" */
function tokenMayEnd(s: string, q: number): boolean {
  if (q >= s.length) return true;
  const c = s.charCodeAt(q);
  if (isWord(c)) return false;
  return !(c === 46 && isDigit(s.charCodeAt(q + 1)));
}
