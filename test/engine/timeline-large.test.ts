/**
 * Time travel at scale: a Timeline folding a 120,000-event run from the session's own EventStore (the way
 * the engine worker does) gives exactly the state the live engine had, at steps sampled over the run, with
 * the default checkpoints and with small ones. The windows fragment (a ring of scattered pages), so
 * checkpoints are taken by the state's size, not only every `interval` events; they stay within their
 * byte budget and no step is more than about 1,024 folds from one.
 */
import { describe, expect, it } from 'vitest';
import { jsonSafe } from '../../engine/snapshot.ts';
import { Session } from '../../engine/session.ts';
import { captureState } from '../../engine/state.ts';
import { CHECKPOINT_BYTES_PER_EVENT, Timeline } from '../../engine/timeline.ts';
import { seededRandom, testSeed, withSeed } from '../support/seed.ts';

const ITER = 60_000;

describe('time travel over a large run', () => {
  it('equals the live state at sampled steps', () => {
    // the sampled steps follow the one seed policy (test/support/seed.ts)
    const seed = testSeed(7);
    const r = seededRandom(seed);
    const samples = new Set<number>();
    while (samples.size < 40) samples.add(1 + Math.floor(r() * (2 * ITER + 9)));
    for (const s of [1, 2, 10, 11, 4096, 4097, 2 * ITER + 9]) samples.add(s);
    const live = new Map<number, unknown>();
    const timelines = [new Timeline(), new Timeline(97)];
    const session: Session = new Session({
      kernel: 'mainline',
      onEvent: (e) => {
        for (const t of timelines) t.push(e);
        if (samples.has(e.seq)) live.set(e.seq, jsonSafe(captureState(session.kernels, e.seq)));
      },
    });
    // the default Timeline reads the session's own store; the other keeps its own copy
    timelines[0] = new Timeline(undefined, [], session.events);
    const host = session.createHost({ kernel: 'mainline' });
    const G = host.addPhb().addGroup();
    const q = host.spawn({ name: 'qemu', memlock: 4n << 30n });
    const R = q.mmap({ size: 1n << 30n, at: 0x7fff00000000n });
    const C = q.openContainer();
    q.openGroup(G).setContainer(C);
    C.setIommu(7);
    C.registerMemory({ vaddr: R, size: 1n << 30n });
    C.removeWindow({ startAddr: 0n });
    C.createWindow({ pageShift: 16, windowSize: 1n << 30n, levels: 1 });
    for (let i = 0; i < ITER; i++) {
      const s = i % 4096;
      C.mapDma({
        vaddr: R + BigInt((s * 7919) % 16384) * 0x10000n,
        iova: BigInt(s) * 0x10000n,
        size: 0x10000n,
      });
      C.unmapDma({ iova: BigInt((i + 2048) % 4096) * 0x10000n, size: 0x10000n });
    }
    expect(session.events.length).toBe(2 * ITER + 9);
    for (const t of timelines) expect(t.length).toBe(2 * ITER + 9);
    expect(live.size).toBe(samples.size);
    // checkpoints: no step further than about 1,024 folds from one, within 48 bytes an event (amortised)
    const st = timelines[0]!.stats();
    expect(st.longestFold).toBeLessThanOrEqual(1100);
    expect(st.longestFold).toBeGreaterThanOrEqual(1023);
    expect(st.bytes / (2 * ITER + 9)).toBeLessThanOrEqual(CHECKPOINT_BYTES_PER_EVENT);
    expect(st.checkpoints).toBeGreaterThan(100);
    withSeed('sampled steps', seed, () => {
      for (const seq of [...samples].sort((a, b) => a - b))
        for (const [k, t] of timelines.entries())
          expect(jsonSafe(t.stateAt(seq)), `timeline ${k}, after event ${seq}`).toEqual(live.get(seq));
    });
  }, 300_000);
});
