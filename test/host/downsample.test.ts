/**
 * inspect.lockedVm with buckets (host/downsample.ts): a sawtooth of v2 REGISTER_MEMORY charging locked_vm
 * until the limit refuses one, then UNREGISTERs, thinned to a few points a bucket. The thinned series keeps, in every
 * bucket, the first, lowest, highest and last point of the full one, every refused call's point, and
 * nothing that was not in the full series; without buckets the series is what it always was.
 */
import { describe, expect, it } from 'vitest';
import type { LockedVmSeries } from '../../common/contract.ts';
import { Session } from '../../engine/session.ts';
import { lockedVmSeries } from '../../host/views.ts';

function sawtooth(): Session {
  const s = new Session({ kernel: 'mainline' });
  const host = s.createHost({ kernel: 'mainline' });
  const G = host.addPhb().addGroup();
  const q = host.spawn({ name: 'qemu', memlock: 256n * 65536n });
  const R = q.mmap({ size: 1n << 30n, at: 0x7fff00000000n });
  const C = q.openContainer();
  q.openGroup(G).setContainer(C);
  C.setIommu(7); // v2: every REGISTER_MEMORY charges its pages, every UNREGISTER gives them back
  let next = 0;
  for (let round = 0; round < 12; round++) {
    // register 64 KiB regions until the limit refuses one, then unregister down to a third
    for (let k = 0; k < 400; k++) {
      const r = C.registerMemory({ vaddr: R + BigInt(next) * 0x10000n, size: 0x10000n });
      if (r.ret < 0) break;
      next++;
    }
    while (next > 80) {
      next--;
      C.unregisterMemory({ vaddr: R + BigInt(next) * 0x10000n, size: 0x10000n });
    }
  }
  return s;
}

const pointsOf = (s: LockedVmSeries): string[] => s.seq.map((q, i) => `${q}:${s.total[i]}:${s.limit[i]}`);

describe('a thinned locked_vm series', () => {
  const s = sawtooth();
  const full = lockedVmSeries(s.events, 100, null)!;
  const BUCKETS = 20;
  const thin = lockedVmSeries(s.events, 100, null, BUCKETS)!;

  it('is much smaller, says so, and holds only points of the full series', () => {
    expect(full.downsampled).toBeUndefined();
    expect(full.seq.length).toBeGreaterThan(3000);
    expect(thin.downsampled).toEqual({ buckets: BUCKETS, points: full.seq.length });
    expect(thin.seq.length).toBeLessThan(4 * BUCKETS + 2 * full.failed.length);
    const all = new Set(pointsOf(full));
    for (const p of pointsOf(thin)) expect(all.has(p), p).toBe(true);
    expect([...thin.seq].sort((a, b) => a - b)).toEqual(thin.seq);
    expect(thin.failed).toEqual(full.failed);
  });

  it('keeps each bucket first, lowest, highest and last point, and every refusal', () => {
    const width = Math.ceil(s.events.length / BUCKETS);
    const kept = new Set(thin.seq);
    const byBucket = new Map<number, number[]>();
    full.seq.forEach((q, i) => {
      const b = Math.floor((q - 1) / width);
      byBucket.set(b, [...(byBucket.get(b) ?? []), i]);
    });
    for (const [b, idx] of byBucket) {
      const totals = idx.map((i) => full.total[i]!);
      const thinTotals = thin.seq.flatMap((q, i) =>
        Math.floor((q - 1) / width) === b ? [thin.total[i]!] : [],
      );
      expect(Math.min(...thinTotals), `bucket ${b}`).toBe(Math.min(...totals));
      expect(Math.max(...thinTotals), `bucket ${b}`).toBe(Math.max(...totals));
      expect(kept.has(full.seq[idx[0]!]!)).toBe(true);
      expect(kept.has(full.seq[idx[idx.length - 1]!]!)).toBe(true);
    }
    const refusals = full.failed.filter((q) => full.seq.includes(q));
    expect(refusals.length).toBeGreaterThan(5);
    for (const q of refusals) expect(kept.has(q), `refused call ${q}`).toBe(true);
  });

  it('stacks still add up to the total at every kept point', () => {
    for (let i = 0; i < thin.seq.length; i++)
      expect(Object.values(thin.stacks).reduce((n, xs) => n + xs[i]!, 0)).toBe(thin.total[i]);
  });
});
