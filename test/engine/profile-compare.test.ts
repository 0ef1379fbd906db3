/**
 * engine/profile-compare.ts: the diff that aligns the ioctl calls of two runs (run.compare, dmawb run
 * --kernel both), its fall-back to index alignment, and where the first divergence is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSeed, withSeed } from '../support/seed.ts';
import type { IoctlEvent, RunEvent } from '../../engine/events.ts';
import {
  compareProfiles,
  diffAlign,
  profileComparisonText,
  type Pair,
  type ProfileRunInput,
} from '../../engine/profile-compare.ts';

/** length of a longest common subsequence, by dynamic programming */
function lcsLength(a: readonly number[], b: readonly number[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++)
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    prev = cur;
  }
  return prev[b.length]!;
}

function checkAlignment(a: readonly number[], b: readonly number[], pairs: Pair[]): void {
  // every element of each side once, in order; paired elements are equal
  expect(pairs.filter((p) => p[0] >= 0).map((p) => p[0])).toEqual(a.map((_, i) => i));
  expect(pairs.filter((p) => p[1] >= 0).map((p) => p[1])).toEqual(b.map((_, i) => i));
  for (const [i, j] of pairs) {
    expect(i >= 0 || j >= 0).toBe(true);
    if (i >= 0 && j >= 0) expect(a[i]).toBe(b[j]);
  }
}

describe('diffAlign', () => {
  it('pairs a longest common subsequence, every element once and in order', () => {
    const seed = testSeed(300);
    withSeed('diffAlign', seed, () =>
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 40 }),
          fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 40 }),
          (a, b) => {
            const pairs = diffAlign(a, b)!;
            checkAlignment(a, b, pairs);
            expect(pairs.filter((p) => p[0] >= 0 && p[1] >= 0).length).toBe(lcsLength(a, b));
          },
        ),
        { seed, numRuns: 300 },
      ),
    );
  });

  it('one extra element pairs everything after it', () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [1, 2, 9, 3, 4, 5, 6];
    expect(diffAlign(a, b)).toEqual([
      [0, 0],
      [1, 1],
      [-1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 6],
    ]);
    expect(diffAlign(b, a)).toEqual([
      [0, 0],
      [1, 1],
      [2, -1],
      [3, 2],
      [4, 3],
      [5, 4],
      [6, 5],
    ]);
  });

  it("puts the first side's extra elements before the second side's at a change", () => {
    expect(diffAlign([1, 7, 8, 2], [1, 9, 2])).toEqual([
      [0, 0],
      [1, -1],
      [2, -1],
      [-1, 1],
      [3, 2],
    ]);
  });

  it('gives up (null) beyond the edit budget, and handles empty sides', () => {
    expect(diffAlign([1, 2, 3, 4], [5, 6, 7, 8], 7)).toBeNull();
    expect(diffAlign([1, 2, 3, 4], [5, 6, 7, 8], 8)).not.toBeNull();
    expect(diffAlign([], [])).toEqual([]);
    expect(diffAlign([1], [])).toEqual([[0, -1]]);
    // a long common prefix and suffix cost nothing against the budget
    const long = Array.from({ length: 50_000 }, (_, i) => i % 7);
    const pairs = diffAlign(long, [...long.slice(0, 25_000), 99, ...long.slice(25_000)], 1)!;
    expect(pairs.length).toBe(50_001);
    expect(pairs[25_000]).toEqual([-1, 25_000]);
  });
});

let seq = 0;
function ioctl(op: string, args: Record<string, number>, ret = 0, lockedVm = 0, line = 10): IoctlEvent {
  return {
    seq: ++seq,
    line,
    kind: 'ioctl',
    pid: 100,
    fd: { type: 'container', id: 1 },
    op,
    args,
    ret,
    errno: ret < 0 ? 'ENOMEM' : null,
    lockedVm: { '100': lockedVm },
    breakdown: {},
    explain: '',
    deltas: {},
  };
}
function input(events: RunEvent[]): ProfileRunInput {
  return { ok: true, expectations: { passed: 0, failed: 0 }, events, peakLockedVm: {}, error: null };
}
const set = (type: number, ret = 0) => ioctl('VFIO_SET_IOMMU', { type }, ret, 0, 52);
const reg = (ret = 0, lv = 65536) =>
  ioctl('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { vaddr: 0x1000, size: 0x1000 }, ret, lv, 58);
const map = (iova: number, lv = 65536) => ioctl('VFIO_IOMMU_MAP_DMA', { iova }, 0, lv, 70);

describe('compareProfiles', () => {
  it('pairs calls both profiles make; an extra call is one row, not a shift of every later row', () => {
    const c = compareProfiles('x.ts', {
      '4.2': input([set(7, -12), set(2), reg(), map(1), map(2), map(3)]),
      mainline: input([set(7), reg(), map(1), map(2), map(3)]),
    });
    expect(c.alignment).toEqual({ method: 'diff', paired: 5, only: { '4.2': 1, mainline: 0 } });
    expect(c.total).toBe(6);
    expect(c.rows.map((r) => r.differs)).toEqual([['result'], ['missing'], [], [], [], []]);
    expect(c.rows[1]!.calls).toMatchObject({
      '4.2': { op: 'VFIO_SET_IOMMU', args: 'type=2' },
      mainline: null,
    });
    expect(c.rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.firstDivergence).toBe(0);
    expect(c.differing).toBe(2);
  });

  it('first divergence: the first row whose result, locked_vm or presence differs', () => {
    const same = [set(7), reg(), map(1)];
    expect(
      compareProfiles('x.ts', { '4.2': input(same), mainline: input([set(7), reg(), map(1)]) })
        .firstDivergence,
    ).toBeNull();
    const lv = compareProfiles('x.ts', {
      '4.2': input([set(7), reg(0, 65664), map(1)]),
      mainline: input([set(7), reg(0, 65536), map(1)]),
    });
    expect(lv.firstDivergence).toBe(1);
    expect(lv.rows[1]!.differs).toEqual(['lockedVm']);
    const missing = compareProfiles('x.ts', {
      '4.2': input([set(7), reg(), map(1)]),
      mainline: input([set(7), reg(), map(1), map(2)]),
    });
    expect(missing.firstDivergence).toBe(3);
    expect(missing.rows[3]!.calls['4.2']).toBeNull();
  });

  it('the same op from another scenario line is another call', () => {
    const c = compareProfiles('x.ts', {
      '4.2': input([ioctl('VFIO_SET_IOMMU', { type: 7 }, 0, 0, 52)]),
      mainline: input([ioctl('VFIO_SET_IOMMU', { type: 7 }, 0, 0, 53)]),
    });
    expect(c.rows.map((r) => r.differs)).toEqual([['missing'], ['missing']]);
  });

  it('falls back to index alignment for huge or wildly different runs, and says so', () => {
    const a = [set(7, -12), set(2), reg(), map(1), map(2)];
    const b = [set(7), reg(), map(1), map(2)];
    const huge = compareProfiles('x.ts', { '4.2': input(a), mainline: input(b) }, undefined, { calls: 4 });
    expect(huge.alignment).toMatchObject({
      method: 'index',
      note: 'more than 4 ioctl calls in a run: calls aligned by index',
    });
    expect(huge.total).toBe(5);
    expect(huge.rows[1]!.differs).toEqual(['op', 'args', 'lockedVm']);
    expect(huge.rows[4]!.differs).toEqual(['missing']);
    const edits = compareProfiles('x.ts', { '4.2': input(a), mainline: input(b) }, undefined, { edits: 0 });
    expect(edits.alignment?.note).toBe('more than 0 calls made by only one profile: calls aligned by index');
    expect(profileComparisonText(edits)).toContain(
      '(more than 0 calls made by only one profile: calls aligned by index)',
    );
  });

  it('as text: one-sided rows name the profile that makes the call', () => {
    const c = compareProfiles('x.ts', {
      '4.2': input([set(7, -12), set(2), reg()]),
      mainline: input([set(7), reg(), map(1)]),
    });
    expect(profileComparisonText(c).slice(2)).toEqual([
      '3 of 4 aligned rows differ (2 paired, 1 only in 4.2, 1 only in mainline); first divergence at row #1',
      '#1 (first divergence) differs in result',
      '  4.2       VFIO_SET_IOMMU(type=7) = -12 ENOMEM  locked_vm 0  L52',
      '  mainline  VFIO_SET_IOMMU(type=7) = 0  locked_vm 0  L52',
      '#2 only in 4.2',
      '  4.2       VFIO_SET_IOMMU(type=2) = 0  locked_vm 0  L52',
      '#4 only in mainline',
      '  mainline  VFIO_IOMMU_MAP_DMA(iova=1) = 0  locked_vm 65536  L70',
    ]);
  });
});
