/**
 * The sandbox boundary against the fake engine (fake-engine.ts): values and handles crossing, call-site
 * lines, errors with positions, budgets, cancellation and escape attempts (scenario-api.md §1–§3, §5).
 */
import { describe, expect, it } from 'vitest';
import type { ExpectEvent, LogEvent } from '../../engine/events.ts';
import { executeScenario, type ExecuteOptions } from '../../runner/execute.ts';
import { FakeContainer, FakeGroup, FakeSession } from './fake-engine.ts';

async function run(source: string, opts: Partial<ExecuteOptions> = {}, session = new FakeSession()) {
  const r = await executeScenario(session, { source, filename: 'scn.ts', ...opts });
  return { ...r, s: session };
}

const SETUP =
  [
    'const host = createHost({ kernel: "4.2" });',
    'const phb = host.addPhb();',
    'const G1 = phb.addGroup();',
    'const p = host.spawn({ name: "qemu", memlock: 16n * GiB });',
    'const C = p.openContainer();',
    'const g1 = p.openGroup(G1);',
  ].join('\n') + '\n';

const expects = (s: FakeSession) => s.events.filter((e): e is ExpectEvent => e.kind === 'expect');
const logs = (s: FakeSession) => s.events.filter((e): e is LogEvent => e.kind === 'log').map((e) => e.text);

describe('values and objects crossing the boundary', () => {
  it('runs a scenario to completion on the fast host-call path and tears QuickJS down cleanly', async () => {
    const r = await run(SETUP + 'expectOk(g1.setContainer(C), "attach");');
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.expectations).toEqual({ passed: 1, failed: 0 });
    expect(r.sandbox.fastPath).toBe(true);
    expect(r.sandbox.disposedCleanly).toBe(true);
  });

  it('passes host objects back as the original host objects', async () => {
    const r = await run(SETUP + 'g1.setContainer(C);\nconst C2 = p.adopt(C);');
    expect(r.error).toBeNull();
    const set = r.s.received.find((x) => x.method === 'setContainer')!;
    expect(set.args[0]).toBeInstanceOf(FakeContainer);
    const opened = r.s.received.find((x) => x.method === 'openGroup')!;
    expect(opened.args[0]).toBeInstanceOf(FakeGroup);
    const adopt = r.s.received.find((x) => x.method === 'adopt')!;
    expect(adopt.args[0]).toBe(set.args[0]);
  });

  it('keeps handle identity in the guest and freezes handles', async () => {
    const r = await run(
      SETUP +
        [
          'expectEq(p.openGroup(G1) === p.openGroup(G1), false, "two opens, two fds");',
          'const h2 = C.constructor === p.openContainer().constructor;',
          'expectEq(h2, true, "same class");',
          'expectEq(Object.isFrozen(C), true, "frozen");',
          'expectEq(C.constructor.name, "Container", "class name");',
          'let threw = false; try { C.mapDma = () => 0 } catch { threw = true }',
          'expectEq(threw, true, "cannot replace a method");',
          'let illegal = ""; try { new C.constructor({}, 1) } catch (e) { illegal = e.message }',
          'expectEq(illegal.startsWith("Illegal constructor"), true, "no forged handles");',
        ].join('\n'),
    );
    expect(r.error).toBeNull();
    expect(expects(r.s).filter((e) => !e.ok)).toEqual([]);
  });

  it('carries bigints, numbers, strings, booleans, null, arrays and nested objects', async () => {
    const r = await run(
      SETUP +
        'C.ioctl("VFIO_X", { a: 1n << 63n, b: -5, c: "é😀;:", d: [true, null, undefined, 2.5], e: { f: 0x7fff00000000n } });',
    );
    expect(r.error).toBeNull();
    const call = r.s.received.find((x) => x.method === 'ioctl')!;
    expect(call.args).toEqual([
      'VFIO_X',
      { a: 1n << 63n, b: -5, c: 'é😀;:', d: [true, null, undefined, 2.5], e: { f: 0x7fff00000000n } },
    ]);
  });

  it('returns bigints, ioctl results with errno, out and a lazily read explain', async () => {
    const r = await run(
      SETUP +
        [
          'const a = p.hpa(0x1000n);',
          'expectEq(typeof a, "bigint", "hpa is a bigint");',
          'expectEq(a, 0x100001000n, "hpa value");',
          'const e = C.enable();',
          'expectEq(e.ret, -16, "ret"); expectEq(e.errno, "EBUSY", "errno");',
          'expectEq(e.explain, "already enabled", "explain");',
          'expectEq(Object.keys(C.setIommu(7)).join(), "ret", "no errno on success");',
          'const w = C.createWindow({ pageShift: 16, windowSize: 4n * GiB, levels: 1 });',
          'expectEq(w.out.startAddr, 1n << 59n, "out bigint");',
          'expectEq(C.getInfo().out.ddw.pgsizes, 0x1011000n, "nested out");',
          'expectEq(C.window(1), null, "null");',
          'expectEq(C.window(0).size, 0x80000000n, "window");',
          'expectEq(C.tce(0, 2).value, 0x100002003n, "tce");',
          'expectEq(p.regions()[0].ua, 0x7fff00000000n, "regions");',
          'expectEq(C.defaultWindowPending, false, "getter");',
          'expectEq(G1.name, "group1", "string getter");',
        ].join('\n'),
    );
    expect(r.error).toBeNull();
    expect(expects(r.s).filter((e) => !e.ok)).toEqual([]);
  });

  it('supports bigint arithmetic and comparisons inside the guest', async () => {
    const r = await run(
      [
        'const R = 0x7fff00000000n;',
        'expectEq(R + 4n * GiB, 0x800000000000n);',
        'expectEq(R > 0x7ffeffffffffn, true);',
        'expectEq((R >> 32n) & 0xffffn, 0x7fffn);',
        'expectEq(BigInt.asUintN(64, -1n), 0xffffffffffffffffn);', // QuickJS's own answers -1n (patched in the prelude)
        'expectEq(BigInt.asUintN(32, 0x1ffffffffn), 0xffffffffn);',
        'expectEq(BigInt.asIntN(64, 0xffffffffffffffffn), -1n);',
        'expectEq(BigInt.asIntN(8, 0x7fn), 127n);',
        'expectEq(KiB * MiB, TiB / 1024n);',
        'expectEq(typeof GiB, "bigint");',
        'expectEq(BigInt(3) ** 40n, 12157665459056928801n);',
      ].join('\n'),
    );
    expect(r.error).toBeNull();
    expect(r.expectations).toEqual({ passed: 10, failed: 0 });
  });

  it('defines the constants and errno table of scenario-api.md §1', async () => {
    const r = await run(
      [
        'expectEq([READ, WRITE, RW].join(), "1,2,3");',
        'expectEq([VFIO_TYPE1_IOMMU, VFIO_SPAPR_TCE_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_DMA_CC_IOMMU, VFIO_EEH, VFIO_SPAPR_TCE_v2_IOMMU].join(), "1,2,3,4,5,7");',
        'expectEq(errno.EBUSY, 16); expectEq(errno.EBADFD, 77); expectEq(Object.isFrozen(errno), true);',
      ].join('\n'),
    );
    expect(r.ok).toBe(true);
  });
});

describe('call-site lines (session.line before every engine call)', () => {
  it('gives each call the line it is written on, in loops and in helper functions', async () => {
    const src = [
      'const p = createHost().spawn();', // 1
      'const C = p.openContainer();', // 2
      'function attach(c) {', // 3
      '  return c.setIommu(7);', // 4
      '}', // 5
      'for (let i = 0; i < 3; i++)', // 6
      '  C.mapDma({ vaddr: 0n, iova: 0n, size: 1n });', // 7
      'attach(C);', // 8
      'p.memlock = 1n << 30n;', // 9
      'expectOk(', // 10
      '  C.setIommu(2));', // 11
      'eval("C.setIommu(2)");', // 12
    ].join('\n');
    const r = await run(src);
    expect(r.error).toBeNull();
    const lines = r.s.received.map((x) => `${x.method}@${x.line}`);
    expect(lines).toEqual([
      'createHost@1',
      'spawn@1',
      'openContainer@2',
      'mapDma@7',
      'mapDma@7',
      'mapDma@7',
      'setIommu@4',
      'set memlock@9',
      'setIommu@11',
      'setIommu@12',
    ]);
    // the expectation is recorded with its own line
    expect(expects(r.s)[0]!.line).toBe(10);
  });
});

describe('errors end the run with file positions of the original source', () => {
  it('an uncaught throw: message, line and column (UTF-16, after type annotations and an emoji)', async () => {
    const r = await run(
      'const s: string = "😀";\nfunction f(x: number): void {\n  throw new Error("boom " + x);\n}\nf(1);',
    );
    expect(r.ok).toBe(false);
    expect(r.error).toEqual({ kind: 'runtime', message: 'Error: boom 1', line: 3, column: 18 });
  });

  it('a TypeError from the guest', async () => {
    const r = await run('const o: any = {};\n  o.a.b;');
    expect(r.error).toEqual({
      kind: 'runtime',
      message: "TypeError: cannot read property 'b' of undefined",
      line: 2,
      column: 6,
    });
  });

  it('a ScenarioError from the engine is thrown at the guest call site', async () => {
    const r = await run(SETUP + 'C.mapDma({ vaddr: 2 ** 60, iova: 0n, size: 1n });');
    expect(r.error?.kind).toBe('runtime');
    expect(r.error?.message).toMatch(
      /^ScenarioError: mapDma: vaddr = 1152921504606847000 is not a safe integer: write it as a bigint literal/,
    );
    expect(r.error?.line).toBe(7);
    expect(r.error?.column).toBe(9);
  });

  it('the scenario may catch a ScenarioError and go on', async () => {
    const r = await run(
      SETUP +
        'let m = "";\ntry { C.mapDma(null) } catch (e) { m = e.name + ": " + e.message }\nexpectEq(m, "ScenarioError: mapDma: the argument must be an object");',
    );
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
  });

  it('a value thrown that is not an Error', async () => {
    const r = await run('throw { code: 5n };');
    expect(r.error).toEqual({
      kind: 'runtime',
      message: 'uncaught exception: {"code":"5n"}',
      line: null,
      column: null,
    });
  });

  it('a JavaScript syntax error QuickJS finds is a compile error with its position', async () => {
    const r = await run('let a = 1;\nlet a = 2;');
    expect(r.error).toEqual({
      kind: 'compile',
      message: 'SyntaxError: invalid redefinition of lexical identifier',
      line: 2,
      column: 7,
    });
    expect(r.s.received).toEqual([]);
  });

  it('a TypeScript syntax error is a compile error before anything runs', async () => {
    const r = await run('createHost();\nconst x: = 3;');
    expect(r.error?.kind).toBe('compile');
    expect(r.error?.line).toBe(2);
    expect(r.s.received).toEqual([]);
  });

  it('strict mode: assigning an undeclared variable is an error, not a new global', async () => {
    const r = await run('\nundeclared = 5;');
    expect(r.error).toMatchObject({
      kind: 'runtime',
      message: "ReferenceError: 'undeclared' is not defined",
      line: 2,
    });
  });
});

describe('expectations (scenario-api.md §3)', () => {
  it('follow the documented semantics and never throw', async () => {
    const r = await run(
      SETUP +
        [
          'expectOk(C.setIommu(7), "ok");', // pass
          'expectOk(C.enable(), "ok fails");', // fail
          'expectErrno(C.enable(), "EBUSY", "errno");', // pass
          'expectErrno(C.enable(), "EINVAL", "errno wrong");', // fail
          'expectErrno(C.enable(), "ENOTANERRNO", "unknown name");', // fail, no throw
          'expectErrno({ ret: -16, errno: "EINVAL" }, "EBUSY", "errno must agree");', // fail
          'expectRet(C.setIommu(7), 0, "ret");', // pass
          'expectRet(C.enable(), -16, "ret negative");', // pass
          'expectEq(3, 3n, "3 equals 3n");', // pass
          'expectEq(0x7fff00000000n, 0x7fff00000000, "bigint and number");', // pass
          'expectEq(3.5, 3n, "not an integer");', // fail
          'expectEq("3", 3, "string is not number");', // fail
          'expectEq(NaN, NaN, "NaN");', // pass
          'const o = {}; expectEq(o, o, "same object");', // pass
          'expectEq({}, {}, "different objects");', // fail
          'expectEq(C, C, "same handle");', // pass
          'expectOk(undefined, "not a result");', // fail
          'const cyc: any = {}; cyc.self = cyc; expectEq(cyc, 1, "cyclic");', // fail, no throw
          'expectEq(new Proxy({}, { ownKeys() { throw new Error("trap") } }), 1, "hostile proxy");', // fail, no throw
          'expectEq(() => 1, null, "function");', // fail
        ].join('\n'),
    );
    expect(r.error).toBeNull();
    const byLabel = Object.fromEntries(expects(r.s).map((e) => [e.label, e]));
    const passed = [
      'ok',
      'errno',
      'ret',
      'ret negative',
      '3 equals 3n',
      'bigint and number',
      'NaN',
      'same object',
      'same handle',
    ];
    for (const [label, e] of Object.entries(byLabel)) expect(e.ok, label).toBe(passed.includes(label));
    expect(r.expectations).toEqual({ passed: 9, failed: 11 });
    expect(byLabel['ok fails']).toMatchObject({ actual: '-16 EBUSY', expected: '0' });
    expect(byLabel['errno wrong']).toMatchObject({ actual: '-16 EBUSY', expected: '-22 EINVAL' });
    expect(byLabel['unknown name']!.expected).toContain('ENOTANERRNO');
    expect(byLabel['not a result']!.actual).toMatch(/not an ioctl result/);
    expect(byLabel['function']!.actual).toContain('[function');
    expect(r.ok).toBe(false);
  });

  it('format big addresses readably', async () => {
    const r = await run('expectEq(0x7fff00000000n, 0x7fff00001000n, "addr");');
    expect(expects(r.s)[0]).toMatchObject({
      ok: false,
      actual: '0x7fff00000000n',
      expected: '0x7fff00001000n',
    });
  });

  it('log and console.log record log events', async () => {
    const r = await run(
      SETUP + 'log("x", 1, 0x1000n, { a: [1n] }, C);\nconsole.log("y");\nconst e = C.enable(); log(e);',
    );
    expect(r.error).toBeNull();
    expect(logs(r.s)).toEqual([
      'x 1 0x1000n {"a":["0x1n"]} "[Container 5]"',
      'y',
      '{"ret":-16,"errno":"EBUSY","explain":"already enabled"}',
    ]);
  });
});

describe('untrusted scenario code (scenario-api.md §5)', () => {
  const probe = (expr: string) =>
    `let v: any; try { v = ${expr} } catch (e) { v = "threw " + e.name }\nlog(typeof v === "string" ? v : typeof v);`;

  it.each([
    ['this.constructor.constructor("return process")()', 'threw ReferenceError'],
    ['Function("return this")().process', 'undefined'],
    [
      'Function("return typeof process + typeof module + typeof global + typeof exports")()',
      'undefinedundefinedundefinedundefined',
    ],
    ['createHost.constructor("return process")()', 'threw ReferenceError'],
    ['eval("globalThis.process")', 'undefined'],
    ['(0, eval)("this").Buffer', 'undefined'],
    [
      '[typeof setTimeout, typeof setInterval, typeof setImmediate, typeof queueMicrotask, typeof fetch, typeof WebAssembly].join()',
      'undefined,undefined,undefined,undefined,undefined,undefined',
    ],
    ['typeof std + typeof os + typeof print', 'undefinedundefinedundefined'],
    ['log.constructor.constructor("return this")() === globalThis', 'boolean'],
  ])('%s', async (expr, expected) => {
    const r = await run(probe(expr));
    expect(r.error).toBeNull();
    expect(logs(r.s)).toEqual([expected]);
  });

  it('globalThis holds the ECMAScript builtins and the scenario API, nothing else', async () => {
    const r = await run('log(Object.getOwnPropertyNames(globalThis).sort().join(" "));');
    const names = logs(r.s)[0]!.split(' ');
    const api = [
      'KiB',
      'MiB',
      'GiB',
      'TiB',
      'READ',
      'WRITE',
      'RW',
      'errno',
      'createHost',
      'expectOk',
      'expectErrno',
      'expectRet',
      'expectEq',
      'log',
      'console',
      'require',
    ];
    for (const n of api) expect(names).toContain(n);
    for (const n of [
      'process',
      'hostCall',
      'Buffer',
      'global',
      'module',
      'exports',
      'setTimeout',
      '__dirname',
    ])
      expect(names).not.toContain(n);
  });

  it('require() is a clear error at its line', async () => {
    const r = await run('const x = 1;\nconst fs = require("fs");');
    expect(r.error).toMatchObject({ kind: 'runtime', line: 2 });
    expect(r.error?.message).toContain('require("fs") is not available');
  });

  it('import() is a compile error', async () => {
    const r = await run('const m = import("node:fs");');
    expect(r.error).toMatchObject({ kind: 'compile', line: 1, column: 11 });
  });

  it('prototype pollution stays in the guest and never reaches the host', async () => {
    const r = await run(
      SETUP +
        [
          'Object.prototype.polluted = 1n;',
          '(Object.prototype as any).vaddr = 0x666n;',
          'Array.prototype.push = () => { throw new Error("hijacked") };',
          'String.prototype.indexOf = () => 0;',
          'C.mapDma(JSON.parse(\'{"__proto__": {"size": 7}, "vaddr": 1, "iova": 0}\'));',
          'C.ioctl("X", { constructor: { prototype: { x: 1 } } });',
        ].join('\n'),
    );
    expect(r.error).toBeNull();
    const map = r.s.received.find((x) => x.method === 'mapDma')!.args[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    expect(map.vaddr).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).size).toBeUndefined();
    const raw = r.s.received.find((x) => x.method === 'ioctl')!.args[1] as Record<string, unknown>;
    expect(Object.keys(raw)).toEqual(['constructor']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('replacing builtins the prelude uses does not break the API or the line numbers', async () => {
    const r = await run(
      SETUP +
        'Error = function () { return { stack: "" } } as any;\nJSON.parse = () => ({});\nObject.keys = () => [];\nconst e = C.enable();\nexpectEq(e.errno, "EBUSY", "still decoded");',
    );
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(expects(r.s)[0]!.line).toBe(11);
  });
});

describe('budgets', () => {
  it('stops a runaway loop at the time budget', async () => {
    // (no bound on the elapsed time here: a timeout kind proves the budget stopped it, and wall-clock
    // bounds flake on a loaded machine; `npm run bench` measures how fast a stop is)
    const r = await run('let n = 0;\nwhile (true) { n = Math.max(n, 1) }', { timeoutMs: 300 });
    expect(r.error).toMatchObject({ kind: 'timeout', line: 2 });
    expect(r.error?.message).toMatch(/time budget exceeded/);
  });

  // A Stop names the line that was running, not the last API call: QuickJS alone would report a loop of
  // plain arithmetic at the call before it (instrument.ts loopMarks, sandbox.ts stoppedAt). The flag is
  // set by the API call on line 2, so the run is stopped inside the loop whatever the machine's speed.
  it.each([
    ['for (;;) {}', 4, 1],
    ['while (n >= 0) n++;', 4, 1],
    ['for (let i = 0; i >= 0; i++) { n += i }', 4, 1],
    ['  do { n++ } while (n > 0)', 4, 3],
    ['for (const x of (function* () { for (;;) yield 1 })()) { n += x }', 4, 1],
  ])('a Stop inside `%s` (line 4, after an API call on line 2) says line %i', async (loop, line, column) => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const s = new FakeSession();
    s.log = () => void Atomics.store(flag, 0, 1);
    const r = await run(`let n = 0;\nlog("go");\nn = 1;\n${loop}\nlog("never");`, { cancelFlag: flag }, s);
    expect(r.error).toMatchObject({ kind: 'cancelled', message: 'the run was stopped', line });
    // the loop's own column, or (generator: the innermost loop runs inside the generator, on the same line)
    if (!loop.includes('function*')) expect(r.error?.column).toBe(column);
  });

  it('a Stop inside a helper function names the helper’s loop, and the time budget does the same', async () => {
    const src = 'function spin() {\n  let x = 0;\n  while (true) { x++ }\n}\nlog("go");\nspin();';
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const s = new FakeSession();
    s.log = () => void Atomics.store(flag, 0, 1);
    const stopped = await run(src, { cancelFlag: flag }, s);
    expect(stopped.error).toMatchObject({ kind: 'cancelled', line: 3, column: 3 });
    const timedOut = await run(src, { timeoutMs: 200 });
    expect(timedOut.error).toMatchObject({ kind: 'timeout', line: 3, column: 3 });
  });

  it('a Stop inside a long built-in call names that call, not an earlier loop', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const s = new FakeSession();
    s.log = () => void Atomics.store(flag, 0, 1);
    const r = await run(
      'let n = 0;\nfor (let i = 0; i < 2; i++) { n++ }\nlog("go");\nconst a = Array.from({ length: 1e9 }, (v, i) => i * 2);',
      { cancelFlag: flag },
      s,
    );
    expect(r.error).toMatchObject({ kind: 'cancelled', line: 4 });
  });

  it('the time budget cannot be caught by the scenario', async () => {
    const r = await run('for (;;) { try { while (true) {} } catch (e) { log("caught") } }', {
      timeoutMs: 200,
    });
    expect(r.error?.kind).toBe('timeout');
    expect(r.s.events).toEqual([]);
  });

  it('stops when cancelled through an AbortSignal (checked by the interrupt handler)', async () => {
    const ac = new AbortController();
    const s = new FakeSession();
    const origLog = s.log.bind(s);
    s.log = (t: string) => {
      origLog(t);
      setTimeout(() => undefined, 0);
      ac.abort(); // e.g. Stop pressed while the scenario runs
    };
    // (cancelled, not the 10 s timeout: the abort ended it; no wall-clock bound, which flakes under load)
    const r = await run(
      'log("start");\nwhile (true) { Math.max(1, 2) }',
      { signal: ac.signal, timeoutMs: 10_000 },
      s,
    );
    expect(r.error?.kind).toBe('cancelled');
    expect(r.error?.message).toBe('the run was stopped');
    expect(r.error?.line).toBe(2);
  });

  it('stops when a shared cancel flag is set', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const s = new FakeSession();
    s.log = () => void Atomics.store(flag, 0, 1);
    const r = await run('log("go");\nfor (;;) {}', { cancelFlag: flag, timeoutMs: 10_000 }, s);
    expect(r.error?.kind).toBe('cancelled');
  });

  it('a Stop that lands before the scenario starts (while the sandbox is set up) is a Stop, not an error', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(flag, 0, 1);
    const r = await run('log("never");', { cancelFlag: flag });
    expect(r.error).toMatchObject({ kind: 'cancelled', message: 'the run was stopped' });
    expect(r.s.events).toEqual([]);
  });

  it('calls onTick from the interrupt checks while a scenario computes without calling the API', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    let ticks = 0;
    const r = await run('log("go");\nfor (;;) {}', {
      cancelFlag: flag,
      onTick: () => {
        if (++ticks === 3) Atomics.store(flag, 0, 1); // the third tick stops it
        if (ticks === 1) throw new Error('a failing tick is ignored');
      },
    });
    expect(r.error).toMatchObject({ kind: 'cancelled', line: 2 });
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('ends a memory bomb with a memory error, and the next run works', async () => {
    const r = await run("const a = [];\nwhile (true) a.push('x'.repeat(1e6));", {
      memoryLimitBytes: 32 * 1024 * 1024,
    });
    expect(r.error).toMatchObject({ kind: 'memory', line: 2 });
    expect(r.error?.message).toMatch(/memory budget exceeded: the scenario used more than 32 MiB/);
    const again = await run('expectEq(1, 1);');
    expect(again.ok).toBe(true);
  });

  it('ends runaway recursion with a clear stack error', async () => {
    const r = await run('function f(n: number): number { return f(n + 1) + 1 }\nf(0);');
    expect(r.error?.kind).toBe('memory');
    expect(r.error?.message).toMatch(/stack overflow/);
    expect(r.error?.line).toBe(1);
  });

  it('runs promise jobs (async functions) of the scenario before finishing', async () => {
    const r = await run(
      'async function f() { await null; log("after await"); }\nf();\nPromise.resolve(2).then((x) => log("then " + x));\nlog("end of script");',
    );
    expect(r.error).toBeNull();
    expect(logs(r.s)).toEqual(['end of script', 'after await', 'then 2']);
  });

  it('a fatal engine error (not a ScenarioError) stops the run even if the scenario catches it', async () => {
    const s = new FakeSession();
    s.createHost = () =>
      ({
        spawn: () => ({
          openContainer: () => ({
            mapDma: () => {
              throw new TypeError('engine bug');
            },
          }),
        }),
      }) as never;
    const r = await run(
      'const C = createHost().spawn().openContainer();\ntry { C.mapDma({ vaddr: 1n }) } catch {}\nwhile (true) {}',
      { timeoutMs: 10_000 },
      s,
    );
    expect(r.error).toMatchObject({
      kind: 'runtime',
      message: 'internal error in the emulator: engine bug',
      line: 2,
    });
    // (a runtime error, not the 10 s timeout: the fatal call ended the run; no wall-clock bound)
  });

  it('the event budget of the engine ends the run as a memory error', async () => {
    const s = new FakeSession();
    class BudgetError extends Error {
      override name = 'BudgetError';
    }
    s.log = () => {
      throw new BudgetError('event budget exceeded: the run recorded 10 events');
    };
    const r = await run('for (let i = 0; i < 100; i++) { try { log(i) } catch {} }\nlog("never");', {}, s);
    expect(r.error).toMatchObject({
      kind: 'memory',
      message: 'event budget exceeded: the run recorded 10 events',
      line: 1,
    });
  });
});
