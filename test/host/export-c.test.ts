/** The engine service's export.c channel: the open scenario as a C program (scenario-api.md §4.3). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateRequest, type RequestOf } from '../../common/contract.ts';
import { EngineService, isEngineChannel, type EngineChannel } from '../../host/engine-service.ts';

const example = (f: string): string => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');

function service() {
  const svc = new EngineService({ emit: () => undefined, appVersion: '9.9.9' });
  const call = <C extends EngineChannel>(c: C, r: RequestOf<C>) => svc.handle(c, r);
  return { svc, call };
}

describe('export.c', () => {
  it('is an engine channel with a validated request', () => {
    expect(isEngineChannel('export.c')).toBe(true);
    expect(validateRequest('export.c', { source: '', filename: 'a.ts', kernel: '4.2' }).ok).toBe(true);
    const bad = validateRequest('export.c', { source: '', filename: 'a.ts', kernel: 'both' });
    expect(bad.ok).toBe(false);
  });

  it('runs the scenario under the given profile and answers with the program and a file name', async () => {
    const { call } = service();
    const f = await call('export.c', {
      source: example('qemu-v2-ddw.ts'),
      filename: 'examples/qemu-v2-ddw.ts',
      kernel: '4.2',
    });
    expect(f.suggestedName).toBe('qemu-v2-ddw-4.2.c');
    expect(f.text).toMatch(/^\/\*\n \* examples\/qemu-v2-ddw\.ts as a program for a real POWER host/);
    expect(f.text).toContain('(dma-workbench 9.9.9)');
    expect(f.text).toContain('4.2 profile');
    expect(f.text).toContain('#include <linux/vfio.h>');
  });

  it('refuses a scenario that does not complete, naming its line', async () => {
    const { call } = service();
    await expect(
      call('export.c', {
        source: 'const host = createHost();\nnope();\n',
        filename: 'bad.ts',
        kernel: 'mainline',
      }),
    ).rejects.toThrow(
      /^bad\.ts:2:\d+: .*nope.* \(the scenario did not complete, so there is no program to export\)$/,
    );
  });
});
