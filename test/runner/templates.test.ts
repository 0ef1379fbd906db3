/** Every New-scenario template runs to the end with all expectations passing, in every profile. */
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES } from '../../common/kernels';
import { TEMPLATES } from '../../common/templates';
import { runScenario } from '../../runner/run';

describe('new-scenario templates', () => {
  it('offers QEMU v2 + DDW, v1, a memlock failure and an empty one', () => {
    expect(TEMPLATES.map((t) => t.id)).toEqual(['qemu-v2-ddw', 'qemu-v1', 'memlock-failure', 'empty']);
  });
  for (const t of TEMPLATES)
    for (const kernel of KERNEL_NAMES)
      it(`${t.id} passes under ${kernel}`, async () => {
        const r = await runScenario({ source: t.text, filename: `${t.id}.ts`, kernel });
        expect(r.error).toBeNull();
        expect(r.expectations.failed).toBe(0);
        if (t.id !== 'empty') expect(r.expectations.passed).toBeGreaterThan(1);
      });
});
