import { describe, expect, it } from 'vitest';
import type { EventRow } from '../../common/contract';
import { BYTES_PER_ROW, FAILED, KVM_ANSWERED, RowColumns } from '../../renderer/src/stores/rowColumns';
import { RowPages } from '../../renderer/src/stores/rowPages';

function row(seq: number, over: Partial<EventRow> = {}): EventRow {
  return {
    seq,
    kind: 'ioctl',
    pid: 7,
    op: 'VFIO_IOMMU_MAP_DMA',
    args: 'iova=0x0',
    result: '0',
    failed: false,
    lockedVm: { '7': seq },
    explain: 'why',
    line: 10 + (seq % 3),
    ...over,
  };
}

describe('RowColumns (what the renderer keeps of every event)', () => {
  it('gives back each column of each row across chunk boundaries', () => {
    const c = new RowColumns();
    const n = 40_000; // more than two chunks of 16,384
    for (let s = 1; s <= n; s++)
      c.push(
        s % 1000 === 0
          ? row(s, {
              op: 'VFIO_IOMMU_UNMAP_DMA',
              failed: true,
              errno: 'EINVAL',
              result: '-22 EINVAL',
              pid: 9,
            })
          : s === 5
            ? row(s, { kind: 'log', pid: undefined, line: undefined, op: 'log' })
            : row(s),
      );
    expect(c.length).toBe(n);
    expect(c.seq(0)).toBe(1);
    expect(c.seq(n - 1)).toBe(n);
    expect(c.op(999)).toBe('VFIO_IOMMU_UNMAP_DMA');
    expect(c.errno(999)).toBe('EINVAL');
    expect(c.failed(999)).toBe(true);
    expect(c.pid(999)).toBe(9);
    expect(c.errno(998)).toBeUndefined();
    expect(c.failed(998)).toBe(false);
    expect(c.kind(4)).toBe('log');
    expect(c.pid(4)).toBeUndefined();
    expect(c.line(4)).toBeUndefined();
    expect(c.line(16_384)).toBe(10 + (16_385 % 3));
    expect(c.op(39_999)).toBe('VFIO_IOMMU_UNMAP_DMA');
    expect(c.opList()).toEqual(['VFIO_IOMMU_MAP_DMA', 'VFIO_IOMMU_UNMAP_DMA', 'log']);
    expect(c.errnoList()).toEqual(['EINVAL']);
    expect(() => c.seq(n)).toThrow(RangeError);
    expect(() => c.seq(-1)).toThrow(RangeError);
  });

  it('holds at most 24 bytes an event', () => {
    const c = new RowColumns();
    for (let s = 1; s <= 1_000_000; s++) c.push(row(s));
    expect(BYTES_PER_ROW).toBeLessThanOrEqual(24);
    expect(c.bytes / c.length).toBeLessThanOrEqual(24);
    expect(c.bytes / c.length).toBeGreaterThanOrEqual(BYTES_PER_ROW);
  });

  it('finds a row by seq, contiguous or not', () => {
    const c = new RowColumns();
    for (const s of [1, 2, 3, 7, 9, 20]) c.push(row(s));
    expect(c.indexOf(3)).toBe(2);
    expect(c.indexOf(9)).toBe(4);
    expect(c.indexOf(20)).toBe(5);
    expect(c.indexOf(8)).toBeUndefined();
    expect(c.indexOf(0)).toBeUndefined();
    expect(c.indexOf(21)).toBeUndefined();
  });

  it('filters by op, errno, pid and problems as rowMatches does, and the rows of a line', () => {
    const c = new RowColumns();
    c.push(row(1, { line: 4 }));
    c.push(row(2, { failed: true, errno: 'ENOMEM', result: '-12 ENOMEM', line: 5 }));
    c.push(row(3, { pid: 8, line: 4 }));
    c.push(row(4, { kind: 'expect', op: 'expectOk', failed: true, pid: undefined, line: 6 }));
    const all = (f: Parameters<RowColumns['matcher']>[0]): number[] => {
      const m = c.matcher(f);
      return m ? [0, 1, 2, 3].filter(m) : [];
    };
    const none = { op: '', errno: '', pid: null, problemsOnly: false };
    expect(all(none)).toEqual([0, 1, 2, 3]);
    expect(all({ ...none, problemsOnly: true })).toEqual([1, 3]);
    expect(all({ ...none, errno: 'ENOMEM' })).toEqual([1]);
    expect(all({ ...none, pid: 8 })).toEqual([2]);
    expect(all({ ...none, op: 'expectOk' })).toEqual([3]);
    expect(c.matcher({ ...none, op: 'NEVER_SEEN' })).toBeNull();
    expect(c.indicesOfLine(4)).toEqual([0, 2]);
    expect(c.indicesOfLine(99)).toEqual([]);
  });

  it('flags H_PUT_TCE hcalls KVM answered and refuses an unknown kind', () => {
    const c = new RowColumns();
    c.push(row(1, { kind: 'hcall', op: 'H_PUT_TCE', result: 'H_SUCCESS [KVM real mode]' }));
    c.push(row(2, { kind: 'hcall', op: 'H_PUT_TCE', result: 'H_SUCCESS [QEMU]' }));
    expect(c.flags(0) & KVM_ANSWERED).toBe(KVM_ANSWERED);
    expect(c.flags(1) & KVM_ANSWERED).toBe(0);
    expect(c.flags(0) & FAILED).toBe(0);
    expect(() => c.push(row(3, { kind: 'bogus' as EventRow['kind'] }))).toThrow(/unknown kind/);
    expect(c.length).toBe(2);
  });
});

describe('RowPages (a bounded LRU of full rows fetched by range)', () => {
  function host(n: number) {
    const calls: [number, number][] = [];
    const fetch = async (from: number, count: number) => {
      calls.push([from, count]);
      const rows: EventRow[] = [];
      for (let i = from; i < Math.min(n, from + count); i++) rows.push(row(i + 1));
      return { rows, total: n };
    };
    return { calls, fetch };
  }

  it('fetches a page once, answers from it, and keeps at most maxPages pages', async () => {
    const h = host(10_000);
    const pages = new RowPages(h.fetch, 100, 3);
    let loaded = 0;
    pages.onLoaded(() => loaded++);
    expect(pages.get(250)).toBeUndefined();
    expect(pages.get(260)).toBeUndefined(); // same page, in flight: not fetched again
    expect((await pages.row(299))!.seq).toBe(300);
    expect(h.calls).toEqual([[200, 100]]);
    expect(loaded).toBe(1);
    expect(pages.get(250)!.seq).toBe(251);
    await pages.ensure(0, 400); // pages 0, 1, 3 (2 is cached)
    expect(h.calls.length).toBe(4);
    expect(pages.size).toBe(3);
    // page 2 was used before 0, 1, 3 landed: it is the oldest and was dropped
    expect(pages.get(250)).toBeUndefined();
    expect((await pages.row(9_999))!.seq).toBe(10_000);
    expect(await pages.row(10_000)).toBeUndefined();
  });

  it('drops pages of an old source and a page a stream made short', async () => {
    const h = host(150);
    const pages = new RowPages(h.fetch, 100, 8);
    expect((await pages.row(120))!.seq).toBe(121);
    expect(await pages.row(170)).toBeUndefined(); // the page held 50 rows when fetched
    pages.invalidateFrom(160);
    const h2 = host(200);
    pages.clear(h2.fetch);
    expect(pages.size).toBe(0);
    expect((await pages.row(170))!.seq).toBe(171);
    expect(h2.calls).toEqual([[100, 100]]);
  });

  it('ignores a fetch that lands after clear, and refuses a bad page size', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pages = new RowPages(async (from) => {
      await gate;
      return { rows: [row(from + 1)], total: 1 };
    }, 10);
    const late = pages.row(0);
    pages.clear();
    release();
    expect(await late).toBeUndefined();
    expect(pages.size).toBe(0);
    expect(() => new RowPages(host(1).fetch, 0)).toThrow(RangeError);
    expect(() => new RowPages(host(1).fetch, 100_001)).toThrow(RangeError);
  });
});
