import { describe, expect, it } from 'vitest';
import { instrument } from '../../runner/instrument.ts';
import { executeScenario } from '../../runner/execute.ts';
import { FakeSession } from './fake-engine.ts';

const marked = (js: string) => instrument(js)!.js;

describe('instrument: call-site marks', () => {
  it('reads a / after the parenthesis of if or while as a regular expression, and after a call as a division', () => {
    expect(marked('if (ok) /a(b)/.test(s);')).toBe('if (ok) /a(b)/.test(__dmawbL(s, 1));');
    expect(marked('const q = f(a) / g(b);')).toBe('const q = f(__dmawbL(a, 1)) / g(__dmawbL(b, 1));');
    expect(marked('x.if(a) / 2')).toBe('x.if(__dmawbL(a, 1)) / 2');
  });

  it('wraps the last argument, or spreads an empty mark for calls without arguments', () => {
    expect(marked('C.mapDma({ vaddr: R }, x);')).toBe('C.mapDma({ vaddr: R }, __dmawbL(x, 1));');
    expect(marked('\nC.enable();')).toBe('\nC.enable(...__dmawbE(2));');
    expect(marked('f(a, ...rest)')).toBe('f(a, ...__dmawbL(rest, 1))');
    expect(marked('f(a, b,)')).toBe('f(a, __dmawbL(b, 1),)');
    expect(marked('a?.b?.(x)')).toBe('a?.b?.(__dmawbL(x, 1))');
    expect(marked('f(x)(y)')).toBe('f(__dmawbL(x, 1))(__dmawbL(y, 1))');
  });

  it('marks nested calls with their own lines, innermost arguments first', () => {
    expect(marked('expectOk(\n  C.mapDma(m),\n  "label")')).toBe(
      'expectOk(\n  C.mapDma(__dmawbL(m, 2)),\n  __dmawbL("label", 1))',
    );
  });

  it('leaves definitions, arrow parameters, keywords and non-code alone', () => {
    for (const src of [
      'function f(a, b) { return a }',
      'const g = function (a) { return a };',
      'const h = async (a, b) => a;',
      'class A extends B { constructor(x) { super.m; } get y() { return 1 } static z(q) {} }',
      'const o = { m(a) { return a }, get x() { return 1 } };',
      'if (a) {} else if (b) {} switch (d) {} try {} catch (e) {}',
      'return (a);',
      'const t = typeof (x) + void (0);',
      'const s = "f(x)" + `g(y)` + /h(z)/.source; // i(j)',
    ]) {
      expect(marked(src), src).toBe(src);
    }
  });

  it('marks every loop once an iteration: in its condition where it has one, else at the start of its block', () => {
    expect(marked('x = 1;\n  while (c) n++')).toBe('x = 1;\n  while (__dmawbS(2, 3), c) n++');
    expect(marked('for (let i = 0; i < n; i++) {}')).toBe('for (let i = 0;__dmawbS(1, 1),  i < n; i++) {}');
    expect(marked('for (;;) {}')).toBe('for (;__dmawbS(1, 1), true;) {}');
    expect(marked('for (let i = [a, b].length, j = { k: ";" }; ; ) x++')).toBe(
      'for (let i = [a, b].length, j = { k: ";" };__dmawbS(1, 1), true ; ) x++',
    );
    expect(marked('for (const [k, v] of m) { n++ }')).toBe('for (const [k, v] of m) {__dmawbS(1, 1); n++ }');
    expect(marked('for await (const x of y) {}')).toBe('for await (const x of y) {__dmawbS(1, 1);}');
    expect(marked('do { n++ } while (c)')).toBe('do {__dmawbS(1, 1); n++ } while (__dmawbS(1, 12), c)');
    expect(marked('outer: for (;;) { continue outer }')).toBe(
      'outer: for (;__dmawbS(1, 8), true;) { continue outer }',
    );
    // not loops: member names, and a for … of with a single-statement body has nowhere to put a mark
    expect(marked('a.for(x); b?.while; for (const x of y) n++')).toBe(
      'a.for(__dmawbL(x, 1)); b?.while; for (const x of y) n++',
    );
  });

  it('marks method calls named like keywords and calls inside template substitutions', () => {
    expect(marked('m.delete(k); p.catch(e)')).toBe('m.delete(__dmawbL(k, 1)); p.catch(__dmawbL(e, 1))');
    expect(marked('`a ${f(x)} b`')).toBe('`a ${f(__dmawbL(x, 1))} b`');
  });

  it('maps columns of the marked text back to the original', () => {
    const { js, map } = instrument('  f(a, g(b), c); h()')!;
    // "c" is at original column 14 (1-based); find it in the marked text
    const at = js.indexOf('c, 1)') + 1;
    expect(map.toOriginal(1, at)).toBe(14);
    // "h" after the marks
    expect(map.toOriginal(1, js.indexOf('h(') + 1)).toBe(18);
    // a position inside a mark maps to where the mark was inserted
    expect(map.toOriginal(1, js.lastIndexOf('__dmawbL') + 3)).toBe(14);
    // lines without marks are unchanged
    expect(map.toOriginal(2, 7)).toBe(7);
  });
});

describe('instrumented runs', () => {
  it('are not used when the scenario names a mark itself', async () => {
    expect(instrument('const __dmawbL = 1; f(x)')).toBeNull();
    const s = new FakeSession();
    const r = await executeScenario(s, {
      source: 'const __dmawbL = 1;\nconst C = createHost().spawn().openContainer();\nC.setIommu(7);',
    });
    expect(r.error).toBeNull();
    expect(r.sandbox.lines).toBe('stack');
    expect(s.received.map((x) => x.line)).toEqual([2, 2, 2, 3]);
  });

  it('use marks for lines, and report runtime columns in the original source', async () => {
    const s = new FakeSession();
    const r = await executeScenario(s, {
      source: 'const C = createHost().spawn().openContainer();\nC.setIommu(7); C.mapDma(null);',
    });
    expect(r.sandbox.lines).toBe('marks');
    expect(r.error).toMatchObject({ kind: 'runtime', line: 2, column: 24 }); // the '(' of C.mapDma(null)
    expect(s.received.map((x) => x.line)).toEqual([1, 1, 1, 2, 2]);
  });

  it('give the same lines as stack lookups for a scenario with helpers, loops and callbacks', async () => {
    const src = [
      'const p = createHost().spawn();',
      'const C = p.openContainer();',
      'function attach(c: any) {',
      '  return c.setIommu(7);',
      '}',
      '[1, 2].forEach((i) =>',
      '  C.mapDma({ vaddr: BigInt(i), iova: 0n, size: 1n }));',
      'attach(C); log(attach(C).ret,',
      '  "x");',
      'p.memlock = 1n << 30n;',
      'eval("C.setIommu(2)");',
    ].join('\n');
    const lines = async (lineMarks: boolean) => {
      const s = new FakeSession();
      const r = await executeScenario(s, { source: src, lineMarks });
      expect(r.error).toBeNull();
      return [
        ...s.received.map((x) => `${x.method}@${x.line}`),
        ...s.events.filter((e) => e.kind === 'log').map((e) => `log@${e.line}`),
      ];
    };
    const withMarks = await lines(true);
    expect(withMarks).toEqual(await lines(false));
    expect(withMarks).toEqual([
      'createHost@1',
      'spawn@1',
      'openContainer@2',
      'mapDma@7',
      'mapDma@7',
      'setIommu@4',
      'setIommu@4',
      'set memlock@10',
      'setIommu@11',
      'log@8',
    ]);
  });
});
