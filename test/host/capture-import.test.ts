/**
 * Import capture… on the host side: the capture.import channel (validated like every request) turns
 * capture texts into a scenario; a run of it carries, on each capture-labelled expectation row, what the
 * host recorded beside what the emulated host gave, marked where they differ.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  validateRequest,
  type EventRow,
  type Events,
  type RequestOf,
  type RunSummary,
} from '../../common/contract.ts';
import { EngineService, type EngineChannel } from '../../host/engine-service.ts';

const capture = (p: string) => readFileSync(new URL(`../../examples/captures/${p}`, import.meta.url), 'utf8');

function service() {
  const events: { event: string; payload: unknown }[] = [];
  const svc = new EngineService({
    emit: (event, payload) => events.push({ event, payload }),
    appVersion: '9.9.9',
  });
  const call = <C extends EngineChannel>(c: C, r: RequestOf<C>) => svc.handle(c, r);
  return { svc, call, events };
}

describe('capture.import', () => {
  it('validates its request: 1 to 16 files, host facts in the CLI flags’ forms', () => {
    expect(validateRequest('capture.import', { files: [] })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/at least one/),
    });
    const files = Array.from({ length: 17 }, (_, i) => ({ name: `c${i}.log`, text: '' }));
    expect(validateRequest('capture.import', { files }).ok).toBe(false);
    expect(
      validateRequest('capture.import', { files: [{ name: 'a.log', text: 'x' }], memlock: 'lots' }).ok,
    ).toBe(false);
    expect(
      validateRequest('capture.import', {
        files: [{ name: 'a.log', text: 'x' }],
        kernel: '5.x',
        memlock: 'unlimited',
      }).ok,
    ).toBe(true);
  });

  it('refuses a capture with nothing importable, naming the file and line', async () => {
    const { call } = service();
    await expect(call('capture.import', { files: [{ name: 'notes.txt', text: 'hello\n' }] })).rejects.toThrow(
      /nothing importable in notes\.txt.*notes\.txt:1: unknown format/,
    );
  });

  it('imports the divergent capture; its run shows recorded beside emulated and marks the difference', async () => {
    const { svc, call, events } = service();
    const r = await call('capture.import', {
      files: [{ name: 'qemu.log', text: capture('register-enomem-diverges/qemu.log') }],
    });
    expect(r.suggestedName).toBe('import-qemu.ts');
    expect(r.calls).toBe(1);
    expect(r.problems).toEqual([]);
    const { source } = await call('run.start', {
      source: r.scenario,
      filename: r.suggestedName,
      kernel: 'mainline',
    });
    await svc.idle();
    const done = events.find((e) => e.event === 'run.done')!.payload as RunSummary;
    expect(done.source).toBe(source);
    expect(done.expectations.failed).toBe(1);
    const rows: EventRow[] = events
      .filter((e) => e.event === 'run.events')
      .flatMap((e) => (e.payload as Events['run.events']).rows);
    const recorded = rows.filter((x) => x.recorded);
    expect(recorded.map((x) => x.recorded)).toEqual([
      { at: 'qemu.log:9', recorded: '-12 ENOMEM', emulated: '0', differs: true },
    ]);
    // reconstructed steps are not recorded results
    expect(
      rows.filter((x) => x.kind === 'expect' && /^reconstructed/.test(x.args)).every((x) => !x.recorded),
    ).toBe(true);
  });
});
