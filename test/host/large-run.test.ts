/**
 * A run the size of a real trace through the engine worker's service (issue 8): 300,000 MAP/UNMAP calls
 * are recorded, streamed and kept whole — no event cap, no eviction by event count (the old limit was
 * 300,000 events over all sources) — and every step stays reachable: event rows by range and time travel.
 * The million-call figures are in `npm run bench` (bench/scale.ts), not here.
 */
import { describe, expect, it } from 'vitest';
import type { EventChannel, Events, RunSummary } from '../../common/contract.ts';
import { EngineService } from '../../host/engine-service.ts';

const ITER = 150_000;
const SETUP_EVENTS = 9;
const SCENARIO = `
const host = createHost({ kernel: 'mainline' });
const G = host.addPhb().addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 4n * GiB });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const C = qemu.openContainer();
qemu.openGroup(G).setContainer(C);
C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
C.registerMemory({ vaddr: R, size: 1n * GiB });
C.removeWindow({ startAddr: 0n });
C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 });
for (let i = 0; i < ${ITER}; i++) {
  const s = i % 4096;
  C.mapDma({ vaddr: R + BigInt((s * 7919) % 16384) * 0x10000n, iova: BigInt(s) * 0x10000n, size: 0x10000n });
  C.unmapDma({ iova: BigInt((i + 2048) % 4096) * 0x10000n, size: 0x10000n });
}
`;

describe('a 300,000-call run through the worker service', () => {
  it('records, streams and keeps every event; rows and time travel reach every step', async () => {
    const seen: { event: EventChannel; payload: unknown }[] = [];
    let rows = 0;
    let lastSeq = 0;
    let ordered = true;
    const svc = new EngineService({
      emit: (event, payload) => {
        if (event === 'run.events') {
          for (const r of (payload as Events['run.events']).rows) {
            ordered &&= r.seq === lastSeq + 1;
            lastSeq = r.seq;
            rows++;
          }
        } else seen.push({ event, payload });
      },
      timeoutMs: 900_000, // a loaded CI machine must not turn this into a budget test
    });
    const { source } = await svc.handle('run.start', {
      source: SCENARIO,
      filename: 'big.ts',
      kernel: 'mainline',
    });
    await svc.idle();
    const done = seen.find((s) => s.event === 'run.done')!.payload as RunSummary;
    expect(done.error).toBeNull();
    const total = SETUP_EVENTS + 2 * ITER;
    expect(done.events).toBe(total);
    expect(rows).toBe(total);
    expect(ordered).toBe(true);

    // the log is compact: well under 200 bytes an event
    const src = svc.sources.get(source);
    expect(src.events.length).toBe(total);
    expect(src.events.byteSize() / total).toBeLessThan(200);

    // event rows by range, at the very end
    const tail = await svc.handle('inspect.rows', { source, from: total - 3, count: 10 });
    expect(tail.total).toBe(total);
    expect(tail.rows.map((r) => r.seq)).toEqual([total - 2, total - 1, total]);
    expect(tail.rows[2]).toMatchObject({ op: 'VFIO_IOMMU_UNMAP_DMA', result: '0', failed: false });

    // time travel: after a MAP of iteration i, slot i % 4096 holds its page; after its UNMAP (i + 2048),
    // the slot 2048 ahead is empty — checked at steps spread over the whole run
    for (const i of [0, 1, 4097, 77_777, 123_456, ITER - 1]) {
      const mapSeq = SETUP_EVENTS + 2 * i + 1;
      const st = await svc.handle('inspect.state', { source, seq: mapSeq });
      expect(st.seq).toBe(mapSeq);
      const slot = i % 4096;
      const e = await svc.handle('inspect.entries', {
        source,
        seq: mapSeq,
        container: 1,
        slot: 0,
        from: slot,
        count: 1,
        validOnly: false,
      });
      expect(e.rows[0]!.ua).toBe('0x' + (0x7fff00000000 + ((slot * 7919) % 16384) * 0x10000).toString(16));
      const after = await svc.handle('inspect.entries', {
        source,
        seq: mapSeq + 1,
        container: 1,
        slot: 0,
        from: (i + 2048) % 4096,
        count: 1,
        validOnly: false,
      });
      expect(after.rows[0]!.value).toBe('0x0');
      // the ring holds 2,048 mapped entries once it is full
      if (i >= 2048) expect(st.windows[0]!.valid).toBe(2049);
    }

    // a second run does not push the first out (the old limit: 300,000 events over all sources)
    await svc.handle('run.start', { source: 'log("small")', filename: 'small.ts', kernel: 'mainline' });
    await svc.idle();
    expect((await svc.handle('inspect.rows', { source, from: 0, count: 1 })).total).toBe(total);
  }, 900_000);
});
