/**
 * The locked_vm graph's data logic (composables/useLockedVmPlot.ts): stacks, the refused charges drawn
 * as bars across the limit, scales, integer ticks, the limit's label and the zoom.
 */
import { describe, expect, it } from 'vitest';
import { ref } from 'vue';
import type { LockedVmSeries } from '../../common/contract';
import {
  autoX,
  autoY,
  INTEGER_INCRS,
  limitLabel,
  limitOnScale,
  logSplits,
  otherFailures,
  plotData,
  refusalLabel,
  refusalsOf,
  stackKeys,
  tickLabel,
  useLockedVmPlot,
  zoomFromSelect,
} from '../../renderer/src/composables/useLockedVmPlot';

/** memlock-default-64k.ts at the default 64 KiB limit: REGISTER of 4 GiB refused, 1-page limit */
const refused: LockedVmSeries = {
  pid: 100,
  seq: [2, 5, 8, 12],
  total: [0, 0, 0, 0],
  limit: [1, 1, 1, 1],
  stacks: { v1Enable: [0, 0, 0, 0], regions: [0, 0, 0, 0], tables: [0, 0, 0, 0] },
  failed: [8, 12],
  refusals: [{ seq: 8, lockedVm: 0, charge: 65536, limit: 1 }],
};
/** a run that charges: regions then tables, limit 131,072 pages */
const charged: LockedVmSeries = {
  pid: 1,
  seq: [1, 2, 3],
  total: [65536, 65600, 65616],
  limit: [131072, 131072, 131072],
  stacks: { tables: [0, 64, 80], regions: [65536, 65536, 65536], views: [0, 0, 0] },
  failed: [],
};

describe('series', () => {
  it('stacks the contributors present, bottom first in the contributors table order', () => {
    expect(stackKeys(charged)).toEqual(['regions', 'tables']);
    expect(stackKeys(refused)).toEqual([]);
  });

  it('a refused charge is a bar from locked_vm to locked_vm + the charge, crossing the limit', () => {
    const [r] = refusalsOf(refused);
    expect(r).toEqual({ seq: 8, from: 0, to: 65536, charge: 65536, limit: 1 });
    expect(r!.from <= r!.limit && r!.to > r!.limit).toBe(true);
    expect(refusalsOf(charged)).toEqual([]); // a series without refusals (the live one)
    expect(refusalLabel(r!, 65536)).toBe(
      'seq 8 refused: locked_vm 0 + 65,536 pages (4,194,304 KiB) = 65,536 > limit 1 page (64 KiB)',
    );
  });

  it('data: x, cumulative stacks topmost first, the limit, and failed calls that are not refusals as points', () => {
    const d = plotData(charged, ['regions', 'tables']);
    expect(d[0]).toEqual([1, 2, 3]);
    expect(d[1]).toEqual([65536, 65600, 65616]); // regions + tables (top)
    expect(d[2]).toEqual([65536, 65536, 65536]); // regions
    expect(d[3]).toEqual([131072, 131072, 131072]);
    expect(d[4]).toEqual([null, null, null]);
    // seq 8 is a bar, seq 12 (another failure) a point
    expect(plotData(refused, []).at(-1)).toEqual([null, null, null, 0]);
    expect(otherFailures(refused)).toEqual([12]);
  });

  it('the y range reaches the top of a refused charge, so the bar is drawn whole', () => {
    expect(autoY(refused, refusalsOf(refused), true)[1]).toBeCloseTo(65536 * 1.08);
    expect(autoY(charged, [], true)[1]).toBeCloseTo(131072 * 1.08);
    expect(autoX(charged)).toEqual([1, 3]);
    expect(autoX({ ...charged, seq: [4] })).toEqual([3, 5]);
  });

  it('the limit is drawn to scale unless it dwarfs what is drawn (more room on a log scale)', () => {
    expect(limitOnScale(refused, refusalsOf(refused), false)).toBe(true);
    const unlimited = { ...charged, limit: [2 ** 48, 2 ** 48, 2 ** 48] };
    expect(limitOnScale(unlimited, [], false)).toBe(false);
    expect(limitOnScale(unlimited, [], true)).toBe(false);
    const far = { ...charged, limit: [65616 * 100, 65616 * 100, 65616 * 100] };
    expect(limitOnScale(far, [], false)).toBe(false);
    expect(limitOnScale(far, [], true)).toBe(true);
  });
});

describe('ticks and labels', () => {
  it('ticks are whole pages: integer steps only, fractional labels blank', () => {
    expect(INTEGER_INCRS.every((x) => Number.isInteger(x))).toBe(true);
    expect(INTEGER_INCRS.slice(0, 4)).toEqual([1, 2, 5, 10]);
    expect(tickLabel(0)).toBe('0');
    expect(tickLabel(131072)).toBe('131k');
    expect(tickLabel(10000)).toBe('10k');
    expect(tickLabel(2000000)).toBe('2M');
    expect(tickLabel(1000)).toBe('1000');
    expect(tickLabel(0.5)).toBe('');
    expect(tickLabel(-1)).toBe('');
  });

  it('log splits: 0 and the powers of ten in range', () => {
    expect(logSplits(0, 131072 * 1.08)).toEqual([0, 1, 10, 100, 1000, 10000, 100000]);
    expect(logSplits(5, 500)).toEqual([10, 100]);
  });

  it('the limit is labelled in pages and KiB', () => {
    expect(limitLabel(1, 65536)).toBe('RLIMIT_MEMLOCK 1 page = 64 KiB');
    expect(limitLabel(65616, 65536)).toBe('RLIMIT_MEMLOCK 65,616 pages = 4,199,424 KiB');
    expect(limitLabel(3, 4096)).toBe('RLIMIT_MEMLOCK 3 pages = 12 KiB');
  });
});

describe('zoom', () => {
  const area = { width: 400, height: 200 };
  // x: px → seq 0..100; y: px 0 (top) → 1000 pages, 200 (bottom) → 0
  const posToVal = (px: number, a: 'x' | 'y') => (a === 'x' ? px / 4 : (200 - px) * 5);

  it('a drag along x zooms x only; a box zooms both; a click zooms nothing', () => {
    expect(
      zoomFromSelect({ left: 40, top: 0, width: 80, height: 200 }, posToVal, { x: null, y: null }, area),
    ).toEqual({ x: [10, 30], y: null });
    expect(
      zoomFromSelect({ left: 40, top: 20, width: 80, height: 100 }, posToVal, { x: null, y: null }, area),
    ).toEqual({ x: [10, 30], y: [400, 900] });
    expect(
      zoomFromSelect({ left: 40, top: 0, width: 0, height: 0 }, posToVal, { x: null, y: null }, area),
    ).toBeNull();
    // a drag along y keeps the x zoom there is
    expect(
      zoomFromSelect({ left: 0, top: 20, width: 400, height: 100 }, posToVal, { x: [1, 2], y: null }, area),
    ).toEqual({ x: [1, 2], y: [400, 900] });
  });

  it('the composable: zoom wins over the automatic range; reset and the log toggle give it back', () => {
    const s = ref<LockedVmSeries | null>(refused);
    const p = useLockedVmPlot(s, ref(65536));
    expect(p.keys.value).toEqual([]);
    expect(p.refusals.value).toHaveLength(1);
    expect(p.limitText.value).toBe('RLIMIT_MEMLOCK 1 page = 64 KiB');
    expect(p.xRange()).toEqual([2, 12]);
    expect(p.zoomed.value).toBe(false);
    p.setZoom({ x: [5, 9], y: [0, 10] });
    expect(p.zoomed.value).toBe(true);
    expect(p.xRange()).toEqual([5, 9]);
    expect(p.yRange()).toEqual([0, 10]);
    p.toggleLog();
    expect(p.log.value).toBe(true);
    expect(p.yRange()[1]).toBeCloseTo(65536 * 1.08); // y zoom dropped with the scale change
    expect(p.xRange()).toEqual([5, 9]);
    p.resetZoom();
    expect(p.xRange()).toEqual([2, 12]);
    s.value = null;
    expect(p.data.value).toBeNull();
  });
});

describe('the limit in force', () => {
  it('is the last point at or before a seq (a scenario can change it)', async () => {
    const { limitAt } = await import('../../renderer/src/composables/useLockedVmPlot');
    const s = { ...refused, seq: [2, 5, 8, 12], limit: [1, 1, 65615, 65616] };
    expect(limitAt(s, 0)).toBe(1);
    expect(limitAt(s, 7)).toBe(1);
    expect(limitAt(s, 8)).toBe(65615);
    expect(limitAt(s, Infinity)).toBe(65616);
  });
});
