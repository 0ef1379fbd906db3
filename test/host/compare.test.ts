/**
 * The engine service's comparisons in-process: inspect.compare (two steps or snapshots, workflow 6) and
 * run.compare (one scenario under 4.2 and mainline, workflow 7).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateRequest, type EventChannel, type RequestOf } from '../../common/contract.ts';
import { EngineService, isEngineChannel, type EngineChannel } from '../../host/engine-service.ts';

const conformance = (f: string): string =>
  readFileSync(new URL(`../conformance/${f}`, import.meta.url), 'utf8');
const example = (f: string): string => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');

function service() {
  const events: { event: EventChannel; payload: unknown }[] = [];
  const svc = new EngineService({
    emit: (event, payload) => events.push({ event, payload }),
    appVersion: '9.9.9',
  });
  const call = <C extends EngineChannel>(c: C, r: RequestOf<C>) => svc.handle(c, r);
  const run = async (source: string, kernel: '4.2' | 'mainline' = 'mainline', filename = 'scenario.ts') => {
    const { source: id } = await call('run.start', { source, filename, kernel });
    await svc.idle();
    return id;
  };
  return { svc, call, run, events };
}

describe('inspect.compare', () => {
  it('is an engine channel with a validated request', () => {
    expect(isEngineChannel('inspect.compare')).toBe(true);
    expect(
      validateRequest('inspect.compare', { a: { source: 'run-1', seq: 3 }, b: { source: 'run-1', seq: 4 } })
        .ok,
    ).toBe(true);
    const bad = validateRequest('inspect.compare', {
      a: { source: 'run-1', seq: -1 },
      b: { source: 'run-1', seq: 4 },
    });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/^inspect\.compare: a\.seq /);
  });

  it('shows what one MAP_DMA changed against the previous event: the TCE range, the region counter', async () => {
    const { call, run } = service();
    const id = await run(conformance('c16-mainline.ts'), 'mainline', 'c16-mainline.ts');
    const { rows } = await call('inspect.rows', { source: id, from: 0, count: 1000 });
    const map = rows.find((r) => r.op === 'VFIO_IOMMU_MAP_DMA' && r.args.includes('iova=0x800000000000000'))!;
    const d = await call('inspect.compare', {
      a: { source: id, seq: map.seq - 1 },
      b: { source: id, seq: map.seq },
    });
    expect(d.lines.some((l) => l.startsWith('~ window') && l.includes('65536 valid TCEs'))).toBe(true);
    expect(d.lines).toContain(
      '    TCE 0..65535 (iova 0x800000000000000..0x8000000ffffffff, 65536 entries): mapped',
    );
    expect(d.lines.some((l) => l.startsWith('~ region') && l.includes('mapped 65539'))).toBe(true);
    expect(d.summary).toMatchObject({ changed: 2, added: 0, removed: 0, identical: false });
    expect(d.summary.a).toBe(`c16-mainline.ts · mainline · after seq ${map.seq - 1}`);
    expect(d.summary.b).toBe(`c16-mainline.ts · mainline · after seq ${map.seq}`);
    // a step against itself: nothing
    const same = await call('inspect.compare', {
      a: { source: id, seq: map.seq },
      b: { source: id, seq: map.seq },
    });
    expect(same).toEqual({ lines: [], summary: expect.objectContaining({ identical: true, changed: 0 }) });
  });

  it('compares an imported snapshot with a step of a run, and two runs under different profiles', async () => {
    const { call, run } = service();
    const ml = await run(example('memlock-default-64k.ts'), 'mainline', 'memlock-default-64k.ts');
    const old = await run(example('memlock-default-64k.ts'), '4.2', 'memlock-default-64k.ts');
    // after SET_IOMMU(7) with the computed limit (seq 26): 4.2 has charged the default window, mainline has not
    const d = await call('inspect.compare', { a: { source: old, seq: 26 }, b: { source: ml, seq: 26 } });
    expect(
      d.lines.some(
        (l) =>
          l.startsWith('~ process 100') && l.includes('locked_vm 128 → 100 (qemu-system-ppc64) locked_vm 0'),
      ),
    ).toBe(true);
    expect(d.lines).toContain('    lockedVm: 128 → 0');

    const { text } = await call('export.snapshot', { source: ml, seq: 27, includeEvents: false });
    const snap = await call('snapshot.import', { text });
    const back = await call('inspect.compare', {
      a: { source: snap.source, seq: 0 },
      b: { source: ml, seq: 27 },
    });
    expect(back.lines).toEqual([]);
    expect(back.summary.a).toBe('snapshot of memlock-default-64k.ts · mainline · after seq 27');
    const prev = await call('inspect.compare', {
      a: { source: ml, seq: 26 },
      b: { source: snap.source, seq: 0 },
    });
    expect(prev.lines.some((l) => l.startsWith('+ region pid 100 0x7fff00000000+0x100000000'))).toBe(true);
    expect(prev.summary).toMatchObject({ added: 1, identical: false });
  });

  it('names an unknown source', async () => {
    const { call } = service();
    await expect(
      call('inspect.compare', { a: { source: 'run-7', seq: 1 }, b: { source: 'run-7', seq: 2 } }),
    ).rejects.toThrow(/unknown source "run-7"/);
  });
});

describe('run.compare', () => {
  it('runs memlock-default-64k under both profiles and flags SET_IOMMU(7) / REGISTER as the first divergence', async () => {
    const { call, events, svc } = service();
    const c = await call('run.compare', {
      source: example('memlock-default-64k.ts'),
      filename: 'memlock-default-64k.ts',
    });
    expect(c.filename).toBe('memlock-default-64k.ts');
    // the first ioctl (GROUP_SET_CONTAINER) agrees; the second is SET_IOMMU(7): ENOMEM on 4.2, 0 on mainline
    expect(c.rows[0]).toMatchObject({ index: 0, differs: [] });
    expect(c.firstDivergence).toBe(1);
    const first = c.rows[1]!;
    expect(first.differs).toEqual(['result']);
    expect(first.calls['4.2']).toMatchObject({
      op: 'VFIO_SET_IOMMU',
      args: 'type=7',
      result: '-12 ENOMEM',
      errno: 'ENOMEM',
      lockedVm: 0,
      seq: 7,
    });
    expect(first.calls.mainline).toMatchObject({
      op: 'VFIO_SET_IOMMU',
      args: 'type=7',
      result: '0',
      errno: null,
      lockedVm: 0,
    });
    // then 4.2 falls back to SET_IOMMU(2) while mainline fails at REGISTER_MEMORY: each a one-sided row
    expect(c.rows[2]).toMatchObject({
      index: 2,
      differs: ['missing'],
      calls: { '4.2': { op: 'VFIO_SET_IOMMU', args: 'type=2' }, mainline: null },
    });
    expect(c.rows[3]).toMatchObject({
      index: 3,
      differs: ['missing'],
      calls: { '4.2': null, mainline: { op: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', result: '-12 ENOMEM' } },
    });
    // the calls both make pair up after that; the retry's REGISTER differs in its result
    expect(c.rows[4]).toMatchObject({
      differs: [],
      calls: { '4.2': { op: 'VFIO_GROUP_SET_CONTAINER' }, mainline: { op: 'VFIO_GROUP_SET_CONTAINER' } },
    });
    expect(c.rows[6]!.differs).toEqual(['result', 'lockedVm']);
    expect(c.rows[6]!.calls.mainline).toMatchObject({ op: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', result: '0' });
    for (const r of c.rows)
      if (r.calls['4.2'] && r.calls.mainline) expect(r.calls['4.2'].op).toBe(r.calls.mainline.op);
    expect(c.alignment).toEqual({ method: 'diff', paired: 12, only: { '4.2': 1, mainline: 5 } });
    expect(c.total).toBe(18);
    expect(c.differing).toBe(c.rows.filter((r) => r.differs.length).length);
    expect(c.omitted).toBe(0);
    expect(c.summaries['4.2']).toMatchObject({ kernel: '4.2', ok: true, error: null });
    expect(c.summaries.mainline).toMatchObject({ kernel: 'mainline', ok: true, error: null });
    expect(c.summaries['4.2']!.peakLockedVm['100']).toBe(65664);
    expect(c.summaries.mainline!.peakLockedVm['100']).toBe(65616);
    // not streamed, and no sources kept
    expect(events).toEqual([]);
    expect(svc.sources.ids()).toEqual([]);
  });

  it('reports a scenario that cannot complete in each summary, and agrees with itself on identical runs', async () => {
    const { call } = service();
    const c = await call('run.compare', {
      source: 'const host = createHost();\nthrow new Error("boom");\n',
      filename: 'boom.ts',
    });
    expect(c.rows).toEqual([]);
    expect(c.firstDivergence).toBeNull();
    expect(c.summaries['4.2']!.error).toMatchObject({ kind: 'runtime', line: 2 });
    expect(c.summaries.mainline!.error?.message).toMatch(/boom/);
  });

  it('waits for runs started before it', async () => {
    const { call, svc, events } = service();
    const { source } = await call('run.start', {
      source: conformance('c16-mainline.ts'),
      filename: 'c16.ts',
      kernel: 'mainline',
    });
    const c = await call('run.compare', { source: 'const host = createHost();\n', filename: 'empty.ts' });
    expect(
      events.some((e) => e.event === 'run.done' && (e.payload as { source: string }).source === source),
    ).toBe(true);
    expect(c.total).toBe(0);
    await svc.idle();
  });
});
