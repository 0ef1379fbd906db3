/**
 * Issue 12, item 1 and the sandbox half of item 2: a failure is never a pass. Each case is a reproducer
 * that ended as "passed" (or as an internal error) before: async exceptions, endless promise jobs,
 * unhandled rejections, hostile toString/valueOf, budgets checked on host calls, text bounded by size.
 */
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../engine/events.ts';
import { executeScenario, type ExecuteOptions } from '../../runner/execute.ts';
import { instrument } from '../../runner/instrument.ts';
import { FakeSession } from './fake-engine.ts';

async function run(source: string, opts: Partial<ExecuteOptions> = {}, session = new FakeSession()) {
  const r = await executeScenario(session, { source, filename: 'scn.ts', ...opts });
  return { ...r, s: session };
}
const logs = (s: FakeSession) => s.events.filter((e): e is LogEvent => e.kind === 'log').map((e) => e.text);

describe('a failure inside async code is a failed run', () => {
  it('an exception in an async function nobody awaits: error with its line', async () => {
    const r = await run(
      'async function main() {\n  await null;\n  throw new Error("boom");\n}\nvoid main();',
    );
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({ kind: 'runtime', line: 3 });
    expect(r.error?.message).toBe('unhandled promise rejection: Error: boom');
  });

  it('an exception before the first await, in an async arrow and in an async method', async () => {
    for (const src of [
      'async function main() { throw new TypeError("early") }\nmain();',
      'const f = async () => { throw new TypeError("early") };\nf();',
      'const o = { async m() { throw new TypeError("early") } };\no.m();',
      'class K { static async m() { throw new TypeError("early") } }\nK.m();',
    ]) {
      const r = await run(src);
      expect(r.error?.message, src).toBe('unhandled promise rejection: TypeError: early');
      expect(r.error?.line, src).toBe(1);
    }
  });

  it('Promise.reject and a throwing then handler are unhandled rejections', async () => {
    expect((await run('Promise.reject(new Error("no"));')).error?.message).toBe(
      'unhandled promise rejection: Error: no',
    );
    const r = await run('Promise.resolve(1).then(() => { throw new RangeError("in then") });');
    expect(r.error?.message).toBe('unhandled promise rejection: RangeError: in then');
    expect((await run('Promise.reject(42);')).error?.message).toBe(
      'unhandled promise rejection: uncaught exception: 42',
    );
  });

  it('a handled rejection is not an error: catch, await in try, then with two arguments, Promise.all', async () => {
    const r = await run(
      [
        'async function bad() { await null; throw new Error("x") }',
        'bad().catch(() => log("caught 1"));',
        '(async () => { try { await bad() } catch { log("caught 2") } })();',
        'bad().then(undefined, () => log("caught 3"));',
        'Promise.all([bad(), 1]).catch(() => log("caught 4"));',
        'Promise.reject(1).finally(() => {}).catch(() => log("caught 5"));',
        'async function ok() { return 7 }',
        'ok().then((v) => log("value " + v));',
      ].join('\n'),
    );
    expect(r.error).toBeNull();
    expect(logs(r.s).sort()).toEqual(['caught 1', 'caught 2', 'caught 3', 'caught 4', 'caught 5', 'value 7']);
  });

  it('async functions keep this, arguments and their return value', async () => {
    const r = await run(
      [
        'class A { v = 3; async get(x: number) { await null; return this.v + x + arguments.length } }',
        'async function sum() { let s = 0; for (const a of arguments) s += a; return s }',
        '(async () => { log(await new A().get(10), await sum(1, 2, 3)) })();',
      ].join('\n'),
    );
    expect(r.error).toBeNull();
    expect(logs(r.s)).toEqual(['14 6']);
  });

  it('`for (;;) await null` ends at the time budget as a timeout, not a pass', async () => {
    const r = await run('(async () => {\n  for (;;) await null;\n})();', { timeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.error?.kind).toBe('timeout');
    expect(r.error?.message).toMatch(/time budget exceeded/);
  });

  it('a promise chain that never ends is a timeout, and QuickJS is dropped without an abort', async () => {
    const r = await run('function step(): Promise<void> { return Promise.resolve().then(step) }\nstep();', {
      timeoutMs: 300,
    });
    expect(r.error?.kind).toBe('timeout');
    const again = await run('expectEq(1, 1);');
    expect(again.ok).toBe(true);
  });

  it('Stop inside async code ends the run as stopped', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const s = new FakeSession();
    s.log = () => void Atomics.store(flag, 0, 1);
    const r = await run('(async () => { log("go"); for (;;) await null })();', { cancelFlag: flag }, s);
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({ kind: 'cancelled', message: 'the run was stopped' });
  });

  it('an async function that catches the error of a fatal engine call still fails the run', async () => {
    const s = new FakeSession();
    s.createHost = () => {
      throw new TypeError('engine bug');
    };
    const r = await run('(async () => { await null; try { createHost() } catch {} })();', {}, s);
    expect(r.error).toMatchObject({ kind: 'runtime', message: 'internal error in the emulator: engine bug' });
  });
});

describe('hostile values are scenario errors', () => {
  it('{ toString: 1 } as a name or size is an error the scenario can catch, never an internal error', async () => {
    const r = await run(
      [
        'const h = createHost();',
        'for (const bad of [{ toString: 1 }, { valueOf: 1 }, { toJSON: () => 1 }]) {',
        '  try { h.spawn({ name: bad as any }) } catch (e) { log(String(e)) }',
        '  try { createHost({ ramSize: bad as any }) } catch (e) { log(String(e)) }',
        '}',
        'log({ toString: 1 } as any);',
        'expectEq(1, 1, { toString: 1 } as any);',
      ].join('\n'),
    );
    expect(r.error).toBeNull();
    const l = logs(r.s);
    expect(l).toHaveLength(7);
    for (const t of l.slice(0, 6)) expect(t).toMatch(/takes plain data/);
    expect(l[6]).toBe('{"toString":1}');
  });
});

describe('budgets on the host side', () => {
  it('the CPU budget is checked on every host call (a loop of slow host calls stops at the deadline)', async () => {
    const s = new FakeSession();
    const slow = (): void => {
      const end = performance.now() + 20;
      while (performance.now() < end);
    };
    let calls = 0;
    s.log = () => {
      calls++;
      slow();
    };
    // each call takes 20 ms and the loop does almost nothing else: the interrupt handler alone would let
    // thousands of calls through before its next check
    const r = await run('for (;;) { try { log(1) } catch {} }', { timeoutMs: 200 }, s);
    expect(r.error?.kind).toBe('timeout');
    expect(calls).toBeLessThan(30);
  });

  it('a flood of log() ends with "memory budget exceeded", not with the host out of memory', async () => {
    const s = new FakeSession();
    const r = await run('for (let i = 0; ; i++) log("x".repeat(10000) + i);', { textBudget: 1_000_000 }, s);
    expect(r.error?.kind).toBe('memory');
    expect(r.error?.message).toMatch(/^memory budget exceeded: .*text/);
    expect(r.s.events.length).toBeLessThan(120);
  });

  it('a huge name is cut with a note, and names in a loop hit the text budget', async () => {
    const s = new FakeSession();
    const names: string[] = [];
    const orig = s.createHost.bind(s);
    s.createHost = (o) => {
      const h = orig(o);
      const spawn = h.spawn.bind(h);
      h.spawn = (x = {}) => {
        names.push(x.name ?? '');
        return spawn(x);
      };
      return h;
    };
    const r = await run(
      'const h = createHost();\nconst big = "n".repeat(40 * 1024 * 1024);\nfor (;;) h.spawn({ name: big });',
      {},
      s,
    );
    expect(r.error?.kind).toBe('memory');
    expect(r.error?.message).toMatch(/memory budget exceeded/);
    expect(names).toHaveLength(3); // 3 × 40 Mi characters sent fit in the 128 Mi budget, the 4th does not
    expect(names[0]!.length).toBeLessThan(10_100);
    expect(names[0]!.endsWith(`… (${40 * 1024 * 1024 - 10_000} more characters)`)).toBe(true);
  });
});

describe('async rewriting keeps positions', () => {
  it('leaves lines and columns as they were and skips generators and expression bodies', () => {
    const js = 'async function f() { return 1 }\nconst g = async () => 2;\nasync function* h() {}\n';
    const r = instrument(js)!;
    expect(r.js.split('\n')[0]).toBe('      function f() {return __dmawbA(async () => { return 1 })}');
    expect(r.js.split('\n')[1]).toContain('async () => 2');
    expect(r.js.split('\n')[2]).toBe('async function* h() {}');
    expect(r.map.toOriginal(1, r.js.split('\n')[0]!.indexOf('return 1') + 1)).toBe(
      js.indexOf('return 1') + 1,
    );
  });
});
