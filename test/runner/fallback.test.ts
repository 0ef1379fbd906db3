/**
 * When the call-marked scenario does not compile (a misread of instrument.ts), the run falls back to
 * stack-based call-site lines and behaves exactly the same. The marking pass is replaced here by one
 * that always produces broken JavaScript.
 */
import { describe, expect, it, vi } from 'vitest';
import { executeScenario } from '../../runner/execute.ts';
import { FakeSession } from './fake-engine.ts';

vi.mock('../../runner/instrument.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../runner/instrument.ts')>();
  return { ...real, instrument: (js: string) => ({ ...real.instrument(js)!, js: `${js}\n)(` }) };
});

describe('fallback to stack lines', () => {
  it('runs the scenario as written when the marked text does not compile', async () => {
    const s = new FakeSession();
    const src =
      'const C = createHost().spawn().openContainer();\nfunction f() {\n  return C.setIommu(7);\n}\nf();\nC.mapDma(null);';
    const r = await executeScenario(s, { source: src });
    expect(r.sandbox.lines).toBe('stack');
    expect(s.received.map((x) => `${x.method}@${x.line}`)).toEqual([
      'createHost@1',
      'spawn@1',
      'openContainer@1',
      'setIommu@3',
      'mapDma@6',
    ]);
    expect(r.error).toMatchObject({ kind: 'runtime', line: 6, column: 9 });
  });

  it('still reports a syntax error of the scenario itself as a compile error', async () => {
    const r = await executeScenario(new FakeSession(), { source: 'let a = 1;\nlet a = 2;' });
    expect(r.error).toEqual({
      kind: 'compile',
      message: 'SyntaxError: invalid redefinition of lexical identifier',
      line: 2,
      column: 7,
    });
  });
});
