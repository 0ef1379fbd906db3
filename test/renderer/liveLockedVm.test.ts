import { watch } from 'vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventRow } from '../../common/contract';
import { LIVE_STACK, LiveLockedVm, throttle } from '../../renderer/src/composables/liveLockedVm';
import { useAppStore } from '../../renderer/src/stores/app';
import { useRunStore } from '../../renderer/src/stores/run';
import { useWorkspaceStore } from '../../renderer/src/stores/workspace';
import { setup, sleep, until } from './helpers';

function row(seq: number, over: Partial<EventRow> = {}): EventRow {
  return {
    seq,
    kind: 'ioctl',
    pid: 7,
    op: 'VFIO_IOMMU_MAP_DMA',
    args: '',
    result: '0',
    failed: false,
    lockedVm: { '7': 0 },
    explain: '',
    ...over,
  };
}

describe('LiveLockedVm (locked_vm from streamed rows)', () => {
  it('keeps the points where the total or limit changes, the failed calls and the last row', () => {
    const live = new LiveLockedVm();
    live.add([
      row(1, { kind: 'action', op: 'spawn', lockedVm: { '7': 0 }, memlockPages: { '7': 1 } }),
      row(2, { lockedVm: { '7': 0 } }),
      row(3, { lockedVm: { '7': 0 } }),
      row(4, { lockedVm: { '7': 65536 }, memlockPages: { '7': 262144 } }),
    ]);
    live.add([
      row(5, { lockedVm: { '7': 65536 } }),
      row(6, { lockedVm: { '7': 65536 }, failed: true, result: '-12 ENOMEM', errno: 'ENOMEM' }),
      row(7, { kind: 'expect', op: 'expect', pid: undefined, lockedVm: {}, failed: true, result: 'FAILED' }),
      row(8, { lockedVm: { '7': 65536 } }),
      row(9, { lockedVm: { '7': 65536 } }),
    ]);
    const s = live.series()[7]!;
    expect(s.seq).toEqual([1, 4, 6, 7, 9]);
    expect(s.total).toEqual([0, 65536, 65536, 65536, 65536]);
    expect(s.limit).toEqual([1, 262144, 262144, 262144, 262144]);
    expect(s.stacks).toEqual({ [LIVE_STACK]: s.total });
    expect(s.failed).toEqual([6, 7]);
  });

  it('follows every pid a row reports, and draws no limit line before one is known (0)', () => {
    const live = new LiveLockedVm();
    live.add([
      row(1, { pid: 1, lockedVm: { '1': 5, '2': 0 } }),
      row(2, { pid: 2, lockedVm: { '1': 5, '2': 9 } }),
    ]);
    const all = live.series();
    expect(Object.keys(all)).toEqual(['1', '2']);
    expect(all[2]!.total).toEqual([0, 9]);
    expect(all[1]!.limit).toEqual([0, 0]);
  });

  it('stores a handful of points for a 100,000-event run whose locked_vm changes rarely', () => {
    const live = new LiveLockedVm();
    const t0 = performance.now();
    for (let b = 0; b < 50; b++) {
      live.add(
        Array.from({ length: 2000 }, (_, i) => {
          const seq = b * 2000 + i + 1;
          return row(seq, { lockedVm: { '7': Math.floor(seq / 10_000) } });
        }),
      );
    }
    expect(performance.now() - t0).toBeLessThan(500);
    expect(live.points).toBeLessThanOrEqual(12);
    const s = live.series()[7]!;
    expect(s.seq.at(-1)).toBe(100_000);
    expect(s.total.at(-1)).toBe(10);
  });
});

describe('throttle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('publishes at once, then at most once per interval, and the last poke is never lost', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = throttle(fn, 250);
    t.poke();
    expect(fn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(10);
      t.poke();
    }
    // 1000 ms of pokes every 10 ms: the first, then one per 250 ms
    expect(fn.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(fn.mock.calls.length).toBeLessThanOrEqual(5);
    const n = fn.mock.calls.length;
    vi.advanceTimersByTime(250);
    expect(fn.mock.calls.length).toBeLessThanOrEqual(n + 1);
    t.poke();
    t.flush();
    expect(fn.mock.calls.length).toBeLessThanOrEqual(n + 2);
    t.poke();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn.mock.calls.length).toBeLessThanOrEqual(n + 2);
  });
});

describe('run store: live locked_vm while a run streams', () => {
  it('publishes the live series at most every 250 ms, and the full series replaces it at the end', async () => {
    setup({ files: { 'qemu-v2-ddw.ts': 'while (true) {}\n' } });
    await useAppStore().start();
    useWorkspaceStore().setText('while (true) {}\n');
    const run = useRunStore();
    const published: number[] = [];
    watch(
      () => run.liveLockedVm,
      (v) => Object.keys(v).length && published.push(Date.now()),
      { flush: 'sync' },
    );
    await run.start();
    await until(() => run.rowCount > 0, 'rows');
    await sleep(700);
    expect(run.running).toBe(true);
    // the fake streams a batch every few ms; the graph hears about it a few times, not per batch
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(published.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < published.length; i++)
      expect(published[i]! - published[i - 1]!).toBeGreaterThanOrEqual(240);
    const s = run.liveLockedVm[1]!;
    expect(s.total.at(-1)).toBe(65536 + 2048);
    expect(s.limit.at(-1)).toBe(65792);
    expect(s.failed.length).toBeGreaterThan(0);
    expect(Object.keys(run.lockedVm)).toEqual([]);
    await run.stop();
    await until(() => run.status === 'done' && run.lockedVm[1], 'the run to end and its full series');
    expect(Object.keys(run.lockedVm[1]!.stacks)).toContain('regions');
    // the last rows made it into the live series before the end (flushed, not dropped)
    expect(run.liveLockedVm[1]!.seq.at(-1)).toBe(run.lastSeq);
    // a new run starts from nothing
    await run.start();
    expect(Object.keys(run.liveLockedVm)).toEqual([]);
    await run.stop();
  });
});
