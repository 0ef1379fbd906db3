/**
 * The wire format between the guest prelude (prelude.ts) and the host bridge (bridge.ts).
 *
 * One guest→host call carries ONE string with all arguments, because each value crossing the QuickJS
 * boundary costs FFI calls and allocations while string building inside QuickJS is comparatively cheap.
 * Each value is self-delimiting:
 *
 *   u undefined   z null   t true   f false
 *   d<number>;    n<bigint, decimal>;    h<handle id>;
 *   s<length>:<characters>      x<length>:<description>   (x: a value the API cannot take, e.g. a function)
 *   [<values>]    {<key length>:<key><value>…}
 *
 * A host→guest result is a JavaScript number or undefined as is, or a string whose first character says
 * what it is (the guest decoder is a single switch):
 *
 *   S<string>   B<bigint, decimal>   T / F / N (true, false, null)   H<class>:<id>
 *   R<ret>;<errno>;<explain>     an IoctlResult without `out` (the common case, no JSON)
 *   K<key>\x01<tagged value>\x01…   a flat record of primitives (see flatRecord)
 *   J<json>      anything structured; bigints are "\u0000n<decimal>", strings starting with U+0000 are
 *                escaped as "\u0000s<string>"
 *   E<c|f>;<name>;<message>     an error to throw at the guest call site; f = fatal (the run stops)
 */

/** A value the guest could not encode (function, symbol, …), kept as its description. */
export class Opaque {
  constructor(readonly description: string) {}
  toJSON(): string {
    return this.description;
  }
  toString(): string {
    return this.description;
  }
}

/** A host object inside a structured result: crosses as "\u0000h<class>:<id>" and becomes a guest handle. */
export class HandleMark {
  constructor(readonly ref: string) {}
}

export class WireError extends Error {
  override name = 'WireError';
}

const MAX_DEPTH = 64;

/**
 * Strings from the guest longer than this are cut, with a note saying how much was cut: every string the
 * host keeps (names, log lines, labels) is bounded, whatever the scenario passes (a 40 MiB name).
 */
export const MAX_STRING = 10_000;

/**
 * Keys that would change how the engine converts an option to a string or number (`{ toString: 1 }`).
 * The scenario API takes plain data, so an argument of an engine call carrying one is refused with an
 * error the scenario can catch; log() and expectations show such values as they are.
 */
const COERCION_KEYS = new Set(['toString', 'valueOf', 'toJSON', 'toLocaleString']);

const NO_ARGS: unknown[] = [];

export interface DecodeOptions {
  /** refuse objects with coercion keys (arguments of engine calls) */
  plainData?: boolean;
  /** told the length of every string decoded, before it is cut (the host's text budget) */
  onText?: (chars: number) => void;
}

/** Decodes the argument string of one guest call. `handle(id)` returns the host object of a handle id. */
export function decodeArgs(s: string, handle: (id: number) => object, opts?: DecodeOptions): unknown[] {
  if (s === '') return NO_ARGS.slice();
  const r = new Reader(s, handle, opts?.plainData === true, opts?.onText);
  const out: unknown[] = [];
  while (r.i < s.length) out.push(r.value(0));
  return out;
}

/** a string cut to MAX_STRING characters, with a note of what was cut */
export function cutText(t: string, max = MAX_STRING): string {
  return t.length <= max ? t : `${t.slice(0, max)}… (${t.length - max} more characters)`;
}

// A class rather than closures: the hot path must not allocate functions per call (tsx's keepNames
// wraps every named closure in a defineProperty call, which made decoding 10x slower).
class Reader {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly handle: (id: number) => object,
    private readonly plainData = false,
    private readonly onText?: (chars: number) => void,
  ) {}

  private until(end: string): string {
    const j = this.s.indexOf(end, this.i);
    if (j < 0) throw new WireError('truncated value');
    const t = this.s.slice(this.i, j);
    this.i = j + 1;
    return t;
  }

  private counted(): string {
    const len = Number(this.until(':'));
    if (!Number.isSafeInteger(len) || len < 0 || this.i + len > this.s.length)
      throw new WireError('bad string length');
    const t = this.s.slice(this.i, this.i + Math.min(len, MAX_STRING));
    this.i += len;
    if (this.onText) this.onText(len);
    return len > MAX_STRING ? `${t}… (${len - MAX_STRING} more characters)` : t;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new WireError('value nested too deeply');
    const s = this.s;
    const c = s[this.i++];
    switch (c) {
      case 'u':
        return undefined;
      case 'z':
        return null;
      case 't':
        return true;
      case 'f':
        return false;
      case 'd':
        return Number(this.until(';'));
      case 'n':
        return BigInt(this.until(';'));
      case 's':
        return this.counted();
      case 'x':
        return new Opaque(this.counted());
      case 'h':
        return this.handle(Number(this.until(';')));
      case '[': {
        const a: unknown[] = [];
        while (s[this.i] !== ']') {
          if (this.i >= s.length) throw new WireError('unterminated array');
          a.push(this.value(depth + 1));
        }
        this.i++;
        return a;
      }
      case '{': {
        const o: Record<string, unknown> = {};
        while (s[this.i] !== '}') {
          if (this.i >= s.length) throw new WireError('unterminated object');
          const k = this.counted();
          if (this.plainData && COERCION_KEYS.has(k))
            throw new WireError(
              `an argument has its own "${k}": the scenario API takes plain data (numbers, bigints, strings, booleans, arrays and objects of those)`,
            );
          const v = this.value(depth + 1);
          // plain data only: a key such as "__proto__" must not reach a prototype
          if (k === '__proto__')
            Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
          else o[k] = v;
        }
        this.i++;
        return o;
      }
      default:
        throw new WireError(`unexpected ${c === undefined ? 'end' : JSON.stringify(c)}`);
    }
  }
}

/** Encodes a host value of a 'value' member for the guest (see the table above). */
export function encodeValue(v: unknown): string | number | undefined {
  switch (typeof v) {
    case 'number':
      return v;
    case 'undefined':
      return undefined;
    // (the result reaches QuickJS as a C string: a NUL character goes through JSON's escape instead)
    case 'string':
      return v.includes('\0') ? 'J' + encodeJson(v) : 'S' + v;
    case 'bigint':
      return 'B' + v;
    case 'boolean':
      return v ? 'T' : 'F';
    default:
      if (v === null) return 'N';
      return flatRecord(v as object) ?? 'J' + encodeJson(v);
  }
}

/**
 * K<key>\x01<value>\x01…: a plain object of primitives (tce(), window()), which the guest splits
 * instead of JSON-parsing and walking for bigints (7 µs → about 1 µs for a TCE). Values carry a tag:
 * n bigint, d number, s string, t / f, z null. Anything else: undefined (then JSON is used).
 */
function flatRecord(v: object): string | undefined {
  if (Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  let out = 'K';
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    let t: string;
    switch (typeof x) {
      case 'bigint':
        t = 'n' + x;
        break;
      case 'number':
        t = 'd' + x;
        break;
      case 'boolean':
        t = x ? 't' : 'f';
        break;
      case 'undefined':
        continue;
      case 'string':
        if (x.includes('\x01') || x.includes('\0')) return undefined;
        t = 's' + x;
        break;
      default:
        if (x !== null) return undefined;
        t = 'z';
    }
    if (k.includes('\x01') || k.includes('\0')) return undefined;
    out += (first ? '' : '\x01') + k + '\x01' + t;
    first = false;
  }
  return first ? undefined : out;
}

/** An IoctlResult: the compact R form when there is no `out`, JSON otherwise. */
export function encodeIoctl(r: { ret: number; errno?: string; out?: unknown; explain?: string }): string {
  if (r.out === undefined && typeof r.ret === 'number' && !r.explain?.includes('\0'))
    return `R${r.ret};${r.errno ?? ''};${r.explain ?? ''}`;
  return 'J' + encodeJson(r);
}

export function encodeJson(v: unknown): string {
  return JSON.stringify(v, function (this: unknown, _k: string, x: unknown): unknown {
    if (typeof x === 'bigint') return '\u0000n' + x;
    if (typeof x === 'string' && x.charCodeAt(0) === 0) return '\u0000s' + x;
    if (x instanceof HandleMark) return '\u0000h' + x.ref;
    if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      const proto = Object.getPrototypeOf(x);
      // only plain data crosses; an engine object inside a result would drag its whole graph along
      if (proto !== Object.prototype && proto !== null)
        return `[${(x as object).constructor?.name ?? 'object'}]`;
    }
    return x;
  });
}

export function encodeError(fatal: boolean, name: string, message: string): string {
  return `E${fatal ? 'f' : 'c'};${name.replace(/;/g, ',')};${message.replace(/\0/g, '\\0')}`;
}
