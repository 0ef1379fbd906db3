/**
 * The engine service in-process (no worker): runs, time travel, inspection, exports and snapshot import,
 * driven through the same request shapes the renderer sends.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EventChannel, Events, RequestOf, RunSummary, Wire } from '../../common/contract.ts';
import { requests } from '../../common/contract.ts';
import * as v from 'valibot';
import type { IoctlEvent } from '../../engine/events.ts';
import { parseSnapshot, SnapshotError } from '../../engine/snapshot.ts';
import { EngineService, type EngineChannel } from '../../host/engine-service.ts';
import { runScenario } from '../../runner/run.ts';

const conformance = (f: string): string =>
  readFileSync(new URL(`../conformance/${f}`, import.meta.url), 'utf8');

function service(opts: { keepRuns?: number; keepEventBytes?: number } = {}) {
  const events: { event: EventChannel; payload: unknown }[] = [];
  const svc = new EngineService({
    emit: (event, payload) => events.push({ event, payload }),
    appVersion: '9.9.9',
    ...opts,
  });
  const call = <C extends EngineChannel>(c: C, r: RequestOf<C>) => svc.handle(c, r);
  const run = async (source: string, kernel: '4.2' | 'mainline' = 'mainline', filename = 'scenario.ts') => {
    const { source: id } = await call('run.start', { source, filename, kernel });
    await svc.idle();
    const done = events.find((e) => e.event === 'run.done' && (e.payload as RunSummary).source === id)!
      .payload as RunSummary;
    const batches = events
      .filter((e) => e.event === 'run.events' && (e.payload as Events['run.events']).source === id)
      .map((e) => (e.payload as Events['run.events']).rows);
    return { id, done, batches };
  };
  return { svc, call, run, events };
}

const c16 = conformance('c16-mainline.ts');
/** one run of C16 shared by the tests that only read it (each run takes about a second) */
let shared:
  | Promise<{ a: ReturnType<typeof service>; r: Awaited<ReturnType<ReturnType<typeof service>['run']>> }>
  | undefined;
const sharedC16 = () =>
  (shared ??= (async () => {
    const a = service();
    return { a, r: await a.run(c16, 'mainline', 'c16-mainline.ts') };
  })());

describe('runs and time travel', () => {
  it('runs a conformance file, streams every row in order and reports the summary', async () => {
    const { run } = service();
    const { id, done, batches } = await run(c16);
    expect(id).toBe('run-1');
    expect(done.ok).toBe(true);
    expect(done.error).toBeNull();
    expect(done.expectations.failed).toBe(0);
    const rows = batches.flat();
    expect(rows.length).toBe(done.events);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(done.peakLockedVm['100']).toBe(65616);
  });

  it('shows the state after any event, bigints as hex strings, with valid counts per window', async () => {
    const {
      a: { call },
      r: { id, batches },
    } = await sharedC16();
    const rows = batches.flat();
    const bigMap = rows.find(
      (r) => r.op === 'VFIO_IOMMU_MAP_DMA' && r.args.includes('iova=0x800000000000000'),
    )!;
    expect(bigMap).toBeDefined();
    const before = await call('inspect.state', { source: id, seq: bigMap.seq - 1 });
    const after = await call('inspect.state', { source: id, seq: bigMap.seq });
    const w1 = (s: typeof after) => s.windows.find((w) => w.slot === 1)!;
    expect(w1(before).valid).toBe(0);
    expect(w1(after).valid).toBe(65536);
    expect(w1(after).startAddr).toBe('0x800000000000000');
    expect(after.seq).toBe(bigMap.seq);
    expect(after.regions[0]!.ua).toBe('0x7fff00000000');
    expect(after.processes[0]!.memlock).toBe('0x400000000');
    expect(after.processes[0]!.lockedVm).toBe(65616);
  });

  it('pages entries, valid only or all, with the owning region; occupancy; find by IOVA and user address', async () => {
    const {
      a: { call },
      r: { id, done },
    } = await sharedC16();
    const rows = (await call('inspect.rows', { source: id, from: 0, count: 100_000 })).rows;
    // the event log's search: op, arguments, result and explanation, case-insensitive, by stretch
    const hit = (t: string) => (r: (typeof rows)[number]) =>
      `${r.op} ${r.args} ${r.result} ${r.explain}`.toLowerCase().includes(t.toLowerCase());
    for (const t of ['IOVA=0x800000000000000', 'map_dma', 'no event says this']) {
      const all = rows.map((r, i) => (hit(t)(r) ? i : -1)).filter((i) => i >= 0);
      expect(
        (await call('inspect.search', { source: id, text: t, from: 0, count: 1_000_000 })).indices,
      ).toEqual(all);
      const half = Math.floor(rows.length / 2);
      const tail = await call('inspect.search', { source: id, text: t, from: half, count: 1_000_000 });
      expect(tail.indices).toEqual(all.filter((i) => i >= half));
      expect(tail.total).toBe(rows.length);
    }
    // the request is validated where it enters the host: no empty or overlong text
    const bad = (req: unknown) => !v.safeParse(requests['inspect.search'], req).success;
    expect(bad({ source: id, text: '', from: 0, count: 10 })).toBe(true);
    expect(bad({ source: id, text: 'x'.repeat(201), from: 0, count: 10 })).toBe(true);
    expect(bad({ source: id, text: 'x', from: 0, count: 1_000_001 })).toBe(true);
    expect(bad({ source: id, text: 'x', from: 0, count: 10 })).toBe(false);
    const seq = rows.find(
      (r) => r.op === 'VFIO_IOMMU_MAP_DMA' && r.args.includes('iova=0x800000000000000'),
    )!.seq;
    const st = await call('inspect.state', { source: id, seq });
    const c = st.windows[0]!.container;
    const valid = await call('inspect.entries', {
      source: id,
      seq,
      container: c,
      slot: 1,
      from: 10,
      count: 3,
      validOnly: true,
    });
    expect(valid.total).toBe(65537 - 1);
    expect(valid.rows.map((r) => r.index)).toEqual([10, 11, 12]);
    expect(valid.rows[0]!.iova).toBe('0x8000000000a0000');
    expect(valid.rows[0]!.ua).toBe('0x7fff000a0000');
    expect(valid.rows[0]!.perm).toBe(3);
    expect(valid.rows[0]!.region).toBe(st.regions[0]!.id);
    const all = await call('inspect.entries', {
      source: id,
      seq,
      container: c,
      slot: 0,
      from: 0,
      count: 5,
      validOnly: false,
    });
    expect(all.total).toBe(262144);
    expect(all.rows.map((r) => r.value !== '0x0')).toEqual([false, false, true, true, false]);
    expect(all.rows[0]!.region).toBeNull();
    const occ = await call('inspect.occupancy', { source: id, seq, container: c, slot: 1, buckets: 4 });
    expect(occ.buckets).toEqual([1, 1, 1, 1]);
    expect(
      await call('inspect.find', { source: id, seq, container: c, slot: 1, iova: '0x800000000010000' }),
    ).toEqual({ index: 1, validIndex: 1 });
    expect(
      (await call('inspect.find', { source: id, seq, container: c, slot: 1, ua: '0x7fff00020005' })).index,
    ).toBe(2);
    expect((await call('inspect.find', { source: id, seq, container: c, slot: 1, ua: '0x1000' })).index).toBe(
      -1,
    );
    await expect(call('inspect.find', { source: id, seq, container: c, slot: 1 })).rejects.toThrow(
      /exactly one of iova and ua/,
    );
    await expect(
      call('inspect.entries', {
        source: id,
        seq: 1,
        container: c,
        slot: 1,
        from: 0,
        count: 1,
        validOnly: true,
      }),
    ).rejects.toThrow(/has no window in slot 1 after event 1/);
    expect(done.events).toBeGreaterThan(seq);
  });

  it("find gives the entry's position among the valid entries (validIndex), -1 for an empty entry", async () => {
    const { run, call } = service();
    const { id, done } = await run(`
      const host = createHost({ kernel: 'mainline' });
      const G = host.addPhb().addGroup();
      const p = host.spawn({ memlock: 4n * GiB });
      const R = p.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
      const C = p.openContainer();
      expectOk(p.openGroup(G).setContainer(C));
      expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));
      expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }));
      expectOk(C.removeWindow({ startAddr: 0n }));
      expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }));
      expectOk(C.mapDma({ vaddr: R + 0x100000n, iova: 0x100000n, size: 0x2000n, flags: RW }));  // slots 256, 257
      expectOk(C.mapDma({ vaddr: R + 0x5000n, iova: 0x5000n, size: 0x1000n, flags: RW }));      // slot 5
      expectOk(C.mapDma({ vaddr: R + 0x20000n, iova: 0x10000n, size: 0x3000n, flags: RW }));    // slots 16..18
    `);
    expect(done.ok).toBe(true);
    const seq = done.events;
    const w = (await call('inspect.state', { source: id, seq })).windows.find((x) => x.startAddr === '0x0')!;
    expect(w.valid).toBe(6);
    const find = (q: { iova: string } | { ua: string }) =>
      call('inspect.find', { source: id, seq, container: w.container, slot: w.slot as 0 | 1, ...q });
    expect(await find({ iova: '0x5000' })).toEqual({ index: 5, validIndex: 0 });
    expect(await find({ iova: '0x11000' })).toEqual({ index: 17, validIndex: 2 });
    expect(await find({ iova: '0x101fff' })).toEqual({ index: 257, validIndex: 5 });
    expect(await find({ iova: '0x6000' })).toEqual({ index: 6, validIndex: -1 });
    expect(await find({ ua: '0x7fff00022000' })).toEqual({ index: 18, validIndex: 3 });
    expect(await find({ ua: '0x7fff00030000' })).toEqual({ index: -1, validIndex: -1 });
    expect(await find({ iova: '0x40000000' })).toEqual({ index: -1, validIndex: -1 }); // past the window
    // the valid-only page at validIndex starts with that entry
    const page = await call('inspect.entries', {
      source: id,
      seq,
      container: w.container,
      slot: w.slot as 0 | 1,
      from: 2,
      count: 2,
      validOnly: true,
    });
    expect(page.rows.map((r) => r.index)).toEqual([17, 18]);
    // before the last MAP, slot 257 was the third valid entry
    const rows = (await call('inspect.rows', { source: id, from: 0, count: 1000 })).rows;
    const lastMap = rows.filter((r) => r.op === 'VFIO_IOMMU_MAP_DMA').at(-1)!;
    expect(
      (
        await call('inspect.find', {
          source: id,
          seq: lastMap.seq - 1,
          container: w.container,
          slot: w.slot as 0 | 1,
          iova: '0x101000',
        })
      ).validIndex,
    ).toBe(2);
  });

  it('plots locked_vm per process stacked by contributor against RLIMIT_MEMLOCK in pages', async () => {
    const {
      a: { call },
      r: { id },
    } = await sharedC16();
    const s = await call('inspect.lockedVm', { source: id, pid: 100 });
    expect(s.seq.length).toBe(s.total.length);
    expect(s.limit.every((l) => l === (16 * 2 ** 30) / 65536)).toBe(true);
    expect(Math.max(...s.total)).toBe(65616);
    for (let i = 0; i < s.total.length; i++) {
      const sum = Object.values(s.stacks).reduce((n, xs) => n + xs[i]!, 0);
      expect(sum, `point ${i}`).toBe(s.total[i]);
    }
    expect(s.stacks['regions']).toContain(65536);
    await expect(call('inspect.lockedVm', { source: id, pid: 4242 })).rejects.toThrow(
      /no process with pid 4242/,
    );
  });

  it('follows setrlimit in the limit line and marks failed calls', async () => {
    const { run, call } = service();
    const { id, batches } = await run(`
      const host = createHost({ kernel: 'mainline' });
      const G = host.addPhb().addGroup();
      const p = host.spawn({ memlock: 64n * KiB });
      const R = p.mmap({ size: 1n * GiB });
      const C = p.openContainer();
      p.openGroup(G).setContainer(C);
      C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
      expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }), 'fails: 64 KiB limit');
      p.memlock = 2n * GiB;
      expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }));
    `);
    const s = await call('inspect.lockedVm', { source: id, pid: 100 });
    expect(s.limit[0]).toBe(1);
    expect(s.limit[s.limit.length - 1]).toBe(32768);
    const rows = (await call('inspect.rows', { source: id, from: 0, count: 1000 })).rows;
    // rows state the limit in pages where it is set or changed, streamed and paged alike
    expect(rows.filter((r) => r.memlockPages).map((r) => [r.op, r.memlockPages])).toEqual([
      ['spawn', { 100: 1 }],
      ['setrlimit', { 100: 32768 }],
    ]);
    expect(batches.flat()).toEqual(rows);
    const tail = (await call('inspect.rows', { source: id, from: rows.length - 3, count: 3 })).rows;
    expect(tail).toEqual(rows.slice(-3));
    const failedIoctl = rows.find((r) => r.kind === 'ioctl' && r.failed)!;
    expect(failedIoctl.result).toBe('-12 ENOMEM');
    expect(failedIoctl.errno).toBe('ENOMEM');
    const failedExpect = rows.find((r) => r.kind === 'expect' && r.failed)!;
    expect(s.failed).toEqual([failedIoctl.seq, failedExpect.seq]);
    const ev = await call('inspect.event', { source: id, seq: failedIoctl.seq });
    // the contract types it as the engine's event in wire form: errno and the bigint vaddr as hex
    const event = ev.event as Wire<IoctlEvent>;
    expect(event.errno).toBe('ENOMEM');
    expect(event.args['vaddr']).toMatch(/^0x/);
  });

  it('streams a long run in batches of at most 2,000 rows', async () => {
    const { run } = service();
    const { done, batches } = await run(`
      const host = createHost();
      const p = host.spawn({});
      for (let i = 1; i <= 10000; i++) p.memlock = BigInt(i) * 4096n;
    `);
    expect(done.ok).toBe(true);
    expect(done.events).toBe(10001);
    expect(batches.flat().length).toBe(10001);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(2000);
    expect(batches.length).toBeGreaterThanOrEqual(6);
  });

  it('reports a Stop that lands while the sandbox is being set up as cancelled', async () => {
    const done: RunSummary[] = [];
    const svc: EngineService = new EngineService({
      emit: (e, p) => void (e === 'run.done' && done.push(p as RunSummary)),
      runner: (o) => {
        void svc.handle('run.stop', { source: 'run-1' }); // after the run began, before QuickJS polls
        return runScenario(o);
      },
    });
    await svc.handle('run.start', { source: 'while (true) {}', filename: 'loop.ts', kernel: 'mainline' });
    await svc.idle();
    expect(done[0]!.error).toEqual({ message: 'the run was stopped', kind: 'cancelled' });
  });

  it('reports compile errors with their line', async () => {
    const { run } = service();
    const { done } = await run('const x: number = ;\n');
    expect(done.ok).toBe(false);
    expect(done.error).toMatchObject({ kind: 'compile', line: 1 });
  });

  it('keeps only the last runs and says so for the older ones', async () => {
    const { run, call } = service({ keepRuns: 2 });
    for (let i = 0; i < 3; i++) await run('log("x")');
    await expect(call('inspect.rows', { source: 'run-1', from: 0, count: 1 })).rejects.toThrow(
      /run-1.*no longer in memory.*last 2 runs/,
    );
    expect((await call('inspect.rows', { source: 'run-3', from: 0, count: 10 })).total).toBe(1);
  });

  it('drops the oldest runs when all of them together hold too many bytes of event log', async () => {
    const loop =
      'const p = createHost().spawn({});\nfor (let i = 1; i <= 10000; i++) p.memlock = BigInt(i) * 4096n;';
    // the size of one such run's log, measured
    const probe = service();
    await probe.run(loop);
    const one = probe.svc.sources.byteSize();
    expect(one).toBeGreaterThan(0);
    const { run, call } = service({ keepEventBytes: Math.round(one * 1.5) });
    await run(loop);
    expect((await call('inspect.rows', { source: 'run-1', from: 0, count: 1 })).total).toBe(10001);
    await run(loop);
    await expect(call('inspect.rows', { source: 'run-1', from: 0, count: 1 })).rejects.toThrow(
      /no longer in memory/,
    );
    expect((await call('inspect.rows', { source: 'run-2', from: 0, count: 1 })).total).toBe(10001);
  });

  it('stops a queued or running run through its cancel flag', async () => {
    const { call, svc, events } = service();
    const { source } = await call('run.start', {
      source: 'while (true) {}',
      filename: 'loop.ts',
      kernel: 'mainline',
    });
    expect(await call('run.stop', { source })).toEqual({ stopped: true });
    await svc.idle();
    const done = events.find((e) => e.event === 'run.done')!.payload as RunSummary;
    expect(done.error?.kind).toBe('cancelled');
    expect(await call('run.stop', { source })).toEqual({ stopped: false });
  });
});

describe('exports and import', () => {
  it('exports a deterministic snapshot that parseSnapshot accepts, and imports it as a source', async () => {
    const a = service();
    const b = service();
    const ra = await a.run(c16, 'mainline', 'c16-mainline.ts');
    const rb = await b.run(c16, 'mainline', 'c16-mainline.ts');
    const seq = 30;
    const sa = await a.call('export.snapshot', { source: ra.id, seq, includeEvents: true });
    const sb = await b.call('export.snapshot', { source: rb.id, seq, includeEvents: true });
    expect(sa.text).toBe(sb.text);
    expect(sa.suggestedName).toBe('c16-mainline-30.snapshot.json');
    const snap = parseSnapshot(sa.text);
    expect(snap.state.seq).toBe(seq);
    expect(snap.events?.length).toBe(seq);
    expect(snap.meta.scenarioSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(snap.meta.appVersion).toBe('9.9.9');

    const imp = await a.call('snapshot.import', { text: sa.text });
    expect(imp).toMatchObject({
      source: 'snap-1',
      seq,
      kernel: 'mainline',
      scenario: 'c16-mainline.ts',
      events: seq,
    });
    // its only step is its seq, whatever step is asked for
    expect(await a.call('inspect.state', { source: 'snap-1', seq: 1 })).toEqual(
      await a.call('inspect.state', { source: ra.id, seq }),
    );
    const rows = await a.call('inspect.rows', { source: 'snap-1', from: 0, count: 5 });
    expect(rows.total).toBe(seq);
    expect(rows.rows).toEqual((await a.call('inspect.rows', { source: ra.id, from: 0, count: 5 })).rows);
    const lv = await a.call('inspect.lockedVm', { source: 'snap-1', pid: 100 });
    expect(lv.total).toEqual(
      (await a.call('inspect.lockedVm', { source: ra.id, pid: 100 })).total.slice(0, lv.total.length),
    );
    // and it exports again to the same bytes
    expect((await a.call('export.snapshot', { source: 'snap-1', seq, includeEvents: true })).text).toBe(
      sa.text,
    );
  });

  it('imports a snapshot without events as a single point', async () => {
    const { a, r } = await sharedC16();
    const s = await a.call('export.snapshot', { source: r.id, seq: 40, includeEvents: false });
    const imp = await a.call('snapshot.import', { text: s.text });
    expect(imp.events).toBe(0);
    const lv = await a.call('inspect.lockedVm', { source: imp.source, pid: 100 });
    expect(lv.seq).toEqual([40]);
    expect(lv.limit).toEqual([262144]);
  });

  it('refuses a bad snapshot with a clear error and creates no source', async () => {
    const { a, r } = await sharedC16();
    const good = JSON.parse(
      (await a.call('export.snapshot', { source: r.id, seq: 10, includeEvents: false })).text,
    );
    const before = a.svc.sources.ids();
    await expect(a.call('snapshot.import', { text: '{"format":"dmawb-snapshot",' })).rejects.toThrow(
      /not valid JSON.*truncated/,
    );
    await expect(
      a.call('snapshot.import', { text: JSON.stringify({ ...good, version: 7 }) }),
    ).rejects.toThrow(/newer DMA Workbench/);
    good.state.processes[0].lockedVm = 'lots';
    await expect(a.call('snapshot.import', { text: JSON.stringify(good) })).rejects.toThrow(SnapshotError);
    await expect(a.call('snapshot.import', { text: JSON.stringify(good) })).rejects.toThrow(
      /state\.processes\.0\.lockedVm/,
    );
    expect(a.svc.sources.ids()).toEqual(before);
  });

  it('exports a window as CSV of its valid entries, and a Markdown report', async () => {
    const { a, r } = await sharedC16();
    const rows = (await a.call('inspect.rows', { source: r.id, from: 0, count: 1000 })).rows;
    const seq = rows.find((x) => x.op === 'VFIO_IOMMU_MAP_DMA')!.seq;
    const st = await a.call('inspect.state', { source: r.id, seq });
    const csv = await a.call('export.csv', {
      source: r.id,
      seq,
      container: st.windows[0]!.container,
      slot: 0,
    });
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe('index,iova,tce,hpa,perm,ua,region');
    expect(lines.length).toBe(1 + 2);
    expect(lines[1]).toMatch(
      new RegExp(`^2,0x2000,0x[0-9a-f]+3,0x[0-9a-f]+000,RW,0x7fff00002000,${st.regions[0]!.id}$`),
    );
    expect(csv.suggestedName).toMatch(/^c16-mainline-\d+-container\d+-slot0\.csv$/);

    const rep = await a.call('export.report', { source: r.id, seq });
    expect(rep.text).toContain('# DMA Workbench report: c16-mainline.ts');
    expect(rep.text).toContain(`## State after event ${seq}`);
    expect(rep.text).toContain('Peak locked_vm');
    expect(rep.suggestedName).toBe(`c16-mainline-${seq}.report.md`);
  });

  it('names the unknown source', async () => {
    const a = service();
    await expect(a.call('inspect.state', { source: 'run-7', seq: 0 })).rejects.toThrow(
      /unknown source "run-7"/,
    );
    await expect(a.call('export.csv', { source: 'snap-2', seq: 0, container: 1, slot: 0 })).rejects.toThrow(
      /imported snapshots/,
    );
  });
});
