/**
 * The guest side of the boundary: JavaScript source evaluated inside QuickJS before the scenario. It
 * defines the scenario API globals (scenario-api.md §1–§3) as ordinary guest classes and functions whose
 * methods each call ONE host function with primitive arguments:
 *
 *     hostCall(op, handleId, encodedArgs, callSite)  →  number | undefined | tagged string   (codec.ts)
 *
 * Nothing of the host is reachable from the guest: `hostCall` is a closure variable of the prelude
 * function, handles are frozen guest objects holding only a private id, and the host never reads a
 * property name the guest chose (schema.ts lists every member it serves).
 *
 * `callSite` says which scenario line made the call. Normally it is the line number stored by the marks
 * instrument.ts puts on every call in the scenario. When the marked scenario does not compile (a misread
 * of the marking pass), the runner falls back to `new Error().stack` taken in the API method itself: the
 * host finds its first frame in the scenario file (frames of this prelude carry another file name). That
 * costs 1 µs or more per call, so either way inspection members, which record no event, pass ''.
 *
 * An ioctl result without `out` crosses as one number (ret and a token); its `explain` text is fetched
 * from the host only when the scenario reads it.
 */
import { errno } from '../engine/errno.ts';
import { KVM_GLOBALS } from '../engine/kvm/era.ts';
import { ASYNC_MARK, EMPTY_MARK, LINE_MARK, LOOP_MARK } from './instrument.ts';
import { CLASSES, OP_EXPLAIN, opOf, type ClassName, type OpSpec } from './schema.ts';

/** File names QuickJS puts in stack frames; the runner maps `SCENARIO_FILE` frames back to the real file. */
export const SCENARIO_FILE = 'scenario';
export const PRELUDE_FILE = 'dmawb-prelude';

const CONSTANTS: Record<string, string> = {
  KiB: '1024n',
  MiB: '1048576n',
  GiB: '1073741824n',
  TiB: '1099511627776n',
  READ: '1',
  WRITE: '2',
  RW: '3',
  VFIO_TYPE1_IOMMU: '1',
  VFIO_SPAPR_TCE_IOMMU: '2',
  VFIO_TYPE1v2_IOMMU: '3',
  VFIO_DMA_CC_IOMMU: '4',
  VFIO_EEH: '5',
  VFIO_SPAPR_TCE_v2_IOMMU: '7',
  ...Object.fromEntries(Object.entries(KVM_GLOBALS).map(([k, v]) => [k, String(v)])),
};

/**
 * Options-object methods of hot ioctls (schema.ts `fields`) pass the field values as extra arguments of
 * hostCall instead of one encoded string: `hostCall(op, id, kinds, site, v0, v1, …)`, where `kinds` holds
 * 3 bits per field (0 absent, 1 bigint, 2 number; bit 30 set so it is never 0). The host reads numbers
 * and bigints straight from the arguments, which saves building and parsing a string (about 1 µs per
 * call). A field of any other type takes the string path, with the values already read (a getter runs
 * once either way). The engine reads exactly these fields, so it sees the same object.
 */
function fieldsMethod(op: OpSpec, code: number, site: string): string {
  const fields = op.fields!;
  const vars = fields.map((f, i) => `v${i} = a.${f}`).join(', ');
  const vals = fields.map((_, i) => `v${i}`).join(', ');
  const kind = (v: string) =>
    `(typeof ${v} === 'bigint' ? 1 : ${v} === undefined ? 0 : typeof ${v} === 'number' ? 2 : 4)`;
  const kinds = fields.map((_, i) => (i === 0 ? kind('v0') : `${kind(`v${i}`)} << ${3 * i}`)).join(' | ');
  const other = fields.reduce((m, _, i) => m + 4 * 2 ** (3 * i), 0);
  const encoded = fields
    .map((f, i) => `(v${i} === undefined ? '' : '${f.length}:${f}' + enc(v${i}))`)
    .join(' + ');
  return `${op.name}(a) {
      if (a === null || typeof a !== 'object') return decIoctl(hostCall(${code}, idOf(this), enc(a), ${site}));
      const ${vars};
      const k = ${kinds} | 0x40000000;
      if ((k & ${other}) === 0) return decIoctl(hostCall(${code}, idOf(this), k, ${site}, ${vals}));
      return decIoctl(hostCall(${code}, idOf(this), '{' + ${encoded} + '}', ${site}));
    }`;
}

function memberSource(op: OpSpec, code: number): string {
  // setters are not written as calls, so instrument.ts cannot mark them: they always use the stack
  const site = op.inspect ? `''` : op.type === 'set' ? 'new Err().stack' : 'SITE()';
  const decode = op.returns === 'ioctl' ? 'decIoctl' : 'dec';
  if (op.type === 'get') return `get ${op.name}() { return dec(hostCall(${code}, idOf(this), '', '')); }`;
  if (op.type === 'set') return `set ${op.name}(v) { dec(hostCall(${code}, idOf(this), enc(v), ${site})); }`;
  if (op.fields) return fieldsMethod(op, code, site);
  const arity = op.arity ?? 1;
  const params = ['a', 'b', 'c', 'd'].slice(0, arity);
  const args = params.length ? params.map((p) => `enc(${p})`).join(' + ') : `''`;
  return `${op.name}(${params.join(', ')}) { return ${decode}(hostCall(${code}, idOf(this), ${args}, ${site})); }`;
}

function classSource(cls: ClassName): string {
  const members = CLASSES[cls]
    .map((mm) => memberSource({ cls, ...mm }, opOf(cls, mm.name, mm.type)))
    .join('\n    ');
  return `class ${cls} extends Handle {\n    ${members}\n  }`;
}

/**
 * The prelude: an expression evaluating to `function (hostCall) { … }` that installs the globals and
 * returns [formatter for uncaught values that are not Errors, call-site state { line }, firstUnhandled()
 * (the first promise rejection no handler took)] to the runner.
 */
export function preludeSource(opts: { lineMarks: boolean }): string {
  const classes = Object.keys(CLASSES) as ClassName[];
  const source = `(function (hostCall) {
  'use strict';
  // Builtins captured before the scenario runs, so that a scenario replacing them cannot confuse the API.
  const G = globalThis, Err = Error, TypeErr = TypeError, Big = BigInt, parse = JSON.parse, keys = Object.keys;
  const isArray = Array.isArray, is = Object.is, freeze = Object.freeze, define = Object.defineProperty;
  const trunc = Math.trunc, RangeErr = RangeError;
  const SECRET = {};

  // ---- the call site: the line stored by instrument.ts's marks, or the stack of this call ----
  // (state.line is read by the runner too: where a stopped scenario last made a call or entered a loop
  // body; state.loop and state.loopColumn: the last loop body entered, see instrument.ts loopMarks)
  const state = { line: 0, loop: 0, loopColumn: 0 };
  ${
    opts.lineMarks
      ? `const EMPTY = freeze([]);
  define(G, '${LINE_MARK}', { value: (v, n) => { state.line = n; return v; }, writable: false, enumerable: false, configurable: false });
  define(G, '${EMPTY_MARK}', { value: (n) => { state.line = n; return EMPTY; }, writable: false, enumerable: false, configurable: false });
  define(G, '${LOOP_MARK}', { value: (n, c) => { state.line = n; state.loop = n; state.loopColumn = c; }, writable: false, enumerable: false, configurable: false });`
      : ''
  }

  // ---- handles: frozen guest objects with a private id; the same id is always the same object ----
  let idOf, isHandle;
  class Handle {
    #id;
    constructor(secret, id) {
      if (secret !== SECRET) throw new TypeErr('Illegal constructor: scenario API objects come from createHost() and their methods');
      this.#id = id;
      freeze(this);
    }
    static {
      idOf = (o) => o.#id;
      isHandle = (o) => #id in o;
    }
  }
  const byId = new Map();

  // ---- arguments → one string (codec.ts) ----
  function enc(v, depth) {
    switch (typeof v) {
      case 'bigint': return 'n' + v + ';';
      case 'number': return 'd' + v + ';';
      case 'string': return 's' + v.length + ':' + v;
      case 'undefined': return 'u';
      case 'boolean': return v ? 't' : 'f';
      case 'object': return v === null ? 'z' : encObject(v, depth === undefined ? 0 : depth);
      default: { const d = describe(v); return 'x' + d.length + ':' + d; }
    }
  }
  function encObject(o, depth) {
    if (isHandle(o)) return 'h' + idOf(o) + ';';
    if (depth > 32) throw new TypeErr('argument nested too deeply (or circular)');
    if (isArray(o)) {
      let s = '[';
      for (let i = 0; i < o.length; i++) s += enc(o[i], depth + 1);
      return s + ']';
    }
    const ks = keys(o);
    let s = '{';
    for (let i = 0; i < ks.length; i++) { const k = ks[i]; s += k.length + ':' + k + enc(o[k], depth + 1); }
    return s + '}';
  }
  function describe(v) {
    if (typeof v === 'function') return '[function ' + (v.name || 'anonymous') + ']';
    if (typeof v === 'symbol') return '[' + String(v) + ']';
    return '[' + typeof v + ']';
  }

  // ---- result → value ----
  function revive(v) {
    if (typeof v === 'string') {
      if (v.charCodeAt(0) !== 0) return v;
      const t = v.charCodeAt(1);
      return t === 110 ? Big(v.slice(2)) : t === 104 ? dec('H' + v.slice(2)) : v.slice(2);
    }
    if (v !== null && typeof v === 'object') {
      if (isArray(v)) for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
      else { const ks = keys(v); for (let i = 0; i < ks.length; i++) v[ks[i]] = revive(v[ks[i]]); }
    }
    return v;
  }
  function dec(r) {
    if (typeof r !== 'string') return r;
    switch (r.charCodeAt(0)) {
      case 82: { // R<ret>;<errno>;<explain>
        const a = r.indexOf(';'), b = r.indexOf(';', a + 1);
        const o = { ret: +r.slice(1, a) };
        if (b > a + 1) o.errno = r.slice(a + 1, b);
        o.explain = r.slice(b + 1);
        return o;
      }
      case 83: return r.slice(1);
      case 66: return Big(r.slice(1));
      case 84: return true;
      case 70: return false;
      case 78: return null;
      case 74: return revive(parse(r.slice(1)));
      case 75: { // K<key>\x01<tagged value>\x01…
        const p = r.slice(1).split('\x01');
        const o = {};
        for (let i = 0; i < p.length; i += 2) {
          const v = p[i + 1], t = v.charCodeAt(0);
          o[p[i]] = t === 110 ? Big(v.slice(1)) : t === 100 ? +v.slice(1) : t === 115 ? v.slice(1) : t === 116 ? true : t === 102 ? false : null;
        }
        return o;
      }
      case 72: { // H<class>:<id>
        const c = r.indexOf(':');
        const id = +r.slice(c + 1);
        let h = byId.get(id);
        if (h === undefined) { h = new CLASSES[r.slice(1, c)](SECRET, id); byId.set(id, h); }
        return h;
      }
      case 69: { // E<c|f>;<name>;<message>
        const a = r.indexOf(';', 3);
        const e = new Err(r.slice(a + 1));
        define(e, 'name', { value: r.slice(3, a), writable: true, configurable: true, enumerable: false });
        throw e;
      }
    }
    throw new TypeErr('malformed result from the emulator');
  }

  // ---- ioctl results (scenario-api.md §2 IoctlResult) ----
  const ERRNO_NAMES = [];
  for (const [k, v] of Object.entries(${JSON.stringify(errno)})) ERRNO_NAMES[v] = k;
  let materialize;
  /** ret and errno as data properties; explain is read from the host on first use (bridge.ts) */
  class IoctlResult {
    #token;
    constructor(secret, n) {
      if (secret !== SECRET) throw new TypeErr('Illegal constructor');
      const ret = (n % 4194304) - 2097152;
      this.ret = ret;
      if (ret < 0) this.errno = ERRNO_NAMES[-ret] ?? 'E' + -ret;
      this.#token = (n - (n % 4194304)) / 4194304;
    }
    get explain() {
      const text = dec(hostCall(${OP_EXPLAIN}, 0, 'd' + this.#token + ';', ''));
      define(this, 'explain', { value: text, writable: true, enumerable: true, configurable: true });
      return text;
    }
    static {
      materialize = (r) => { if (r instanceof IoctlResult) void r.explain; return r; };
    }
  }
  freeze(IoctlResult.prototype); freeze(IoctlResult);
  function decIoctl(r) {
    return typeof r === 'number' ? new IoctlResult(SECRET, r) : dec(r);
  }

  // ---- scenario-api.md §2: the objects ----
  ${classes.map(classSource).join('\n  ')}
  const CLASSES = { ${classes.join(', ')} };
  freeze(Handle.prototype); freeze(Handle);
  for (const k of keys(CLASSES)) { freeze(CLASSES[k].prototype); freeze(CLASSES[k]); }

  // ---- QuickJS 2025-09-13 returns -1n from BigInt.asUintN/asIntN whenever the result has its top bit
  // set (BigInt.asUintN(64, -1n) === -1n); masks of addresses need them, so they are replaced here ----
  function toBits(bits) {
    const n = Number(bits);
    if (!(n >= 0 && n <= 9007199254740991) || n !== trunc(n)) throw new RangeErr('invalid number of bits');
    return Big(n);
  }
  const bigintFns = {
    asUintN(bits, v) { const b = toBits(bits); return Big(v) & ((1n << b) - 1n); },
    asIntN(bits, v) {
      const b = toBits(bits);
      if (b === 0n) return 0n;
      const u = Big(v) & ((1n << b) - 1n);
      return u >= 1n << (b - 1n) ? u - (1n << b) : u;
    },
  };
  define(Big, 'asUintN', { value: bigintFns.asUintN, writable: true, enumerable: false, configurable: true });
  define(Big, 'asIntN', { value: bigintFns.asIntN, writable: true, enumerable: false, configurable: true });

  // ---- scenario-api.md §3: expectations and log (they never throw) ----
  function safeString(v) {
    try { return String(v); } catch { return '[unprintable]'; }
  }
  function safeEnc(v) {
    try { return enc(materialize(v)); } catch (e) { const d = '[unencodable: ' + safeString(e && e.message) + ']'; return 'x' + d.length + ':' + d; }
  }
  /** the part of an ioctl result an expectation looks at (ret and errno), or the value itself */
  function resultPart(r) {
    try {
      if (r !== null && typeof r === 'object' && !isHandle(r) && typeof r.ret === 'number') {
        return typeof r.errno === 'string' ? { ret: r.ret, errno: r.errno } : { ret: r.ret };
      }
    } catch {}
    return r;
  }
  function expect(kind, a, b, label, site) {
    const same = is(a, b); // the host compares copies: object identity is decided here
    const text = label === undefined ? '' : safeString(label);
    dec(hostCall(${opOf('global', 'expect')}, 0, enc(kind) + safeEnc(a) + safeEnc(b) + enc(text) + enc(same), site));
  }
  const api = {
    createHost(opts) { return dec(hostCall(${opOf('global', 'createHost')}, 0, enc(opts), SITE())); },
    expectOk(r, label) { expect('ok', resultPart(r), undefined, label, SITE()); },
    expectErrno(r, name, label) { expect('errno', resultPart(r), name, label, SITE()); },
    expectRet(r, ret, label) { expect('ret', resultPart(r), ret, label, SITE()); },
    expectEq(actual, expected, label) { expect('eq', actual, expected, label, SITE()); },
    expectHcall(r, ret, handledBy, label) { expect('hcall', r, [ret, handledBy], label, SITE()); },
    log(...values) {
      let s = '[';
      for (let i = 0; i < values.length; i++) s += safeEnc(values[i]);
      dec(hostCall(${opOf('global', 'log')}, 0, s + ']', SITE()));
    },
    require(name) {
      throw new Err('require(' + JSON.stringify(safeString(name)) + ') is not available: a scenario file can use the scenario API only (scenario-api.md §5)');
    },
  };
  const globals = {
    ${Object.entries(CONSTANTS)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')},
    errno: freeze(${JSON.stringify(errno)}),
    ...api,
    console: freeze({ log: api.log, info: api.log, warn: api.log, error: api.log, debug: api.log }),
  };
  for (const k of keys(globals)) define(G, k, { value: globals[k], writable: false, enumerable: false, configurable: true });

  // ---- promises: a rejection nobody handles is an error of the run (sandbox.ts asks at the end) ----
  // QuickJS has no rejection tracker this build exposes, so the global Promise is a subclass that
  // watches its own instances: each one gets a silent observer (an intrinsic then with a no-op result),
  // and calling then (catch, finally, await and the combinators all do) marks it handled. Async functions
  // return intrinsic promises; instrument.ts rewrites them to return this Promise (${ASYNC_MARK}).
  const IntrinsicPromise = G.Promise, intrinsicThen = IntrinsicPromise.prototype.then;
  const unhandled = new Map(), handled = new WeakSet();
  let observing = false;
  class Promise extends IntrinsicPromise {
    constructor(executor) {
      super(executor);
      if (!observing) {
        observing = true;
        try {
          intrinsicThen.call(this, undefined, (reason) => { if (!handled.has(this)) unhandled.set(this, reason); });
        } finally {
          observing = false;
        }
      }
    }
    then(onFulfilled, onRejected) {
      handled.add(this);
      unhandled.delete(this);
      return super.then(onFulfilled, onRejected);
    }
  }
  define(G, 'Promise', { value: Promise, writable: true, enumerable: false, configurable: true });
  ${
    opts.lineMarks
      ? `define(G, '${ASYNC_MARK}', { value: (body) => new Promise((resolve, reject) => intrinsicThen.call(body(), resolve, reject)), writable: false, enumerable: false, configurable: false });`
      : ''
  }
  /** the first rejection still unhandled once every job has run, as { reason }, or undefined */
  function firstUnhandled() {
    for (const [p, reason] of unhandled) { unhandled.delete(p); return { reason }; }
    return undefined;
  }

  // for the runner: how an uncaught value that is not an Error reads in the run's error message, and
  // the call-site state
  return [function describeThrown(v) {
    try {
      if (typeof v === 'string') return JSON.stringify(v);
      if (typeof v === 'bigint') return v + 'n';
      if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return String(v);
      return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x + 'n' : x)) ?? describe(v);
    } catch {
      return describe(v);
    }
  }, state, firstUnhandled];
})`;
  return source.replaceAll('SITE()', opts.lineMarks ? 'state.line' : 'new Err().stack');
}
