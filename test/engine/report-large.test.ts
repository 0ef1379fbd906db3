/**
 * The report of a large run stays bounded: it counts every problem but lists at most maxRows of them (and
 * of the events), reading the log one event at a time.
 */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../engine/report.ts';
import { Session } from '../../engine/session.ts';
import { captureState } from '../../engine/state.ts';

describe('report of a run with many problems', () => {
  const s = new Session({ kernel: 'mainline' });
  const host = s.createHost({ kernel: 'mainline' });
  const q = host.spawn({ name: 'qemu', memlock: 1n << 30n });
  const C = q.openContainer();
  for (let i = 0; i < 30; i++) C.mapDma({ vaddr: 0x10000n, iova: BigInt(i) * 0x10000n, size: 0x10000n }); // no IOMMU set: refused
  const report = (maxRows?: number): string =>
    renderReport({
      scenario: 's.ts',
      kernel: 'mainline',
      ok: false,
      expectations: { passed: 0, failed: 0 },
      error: null,
      events: s.events,
      state: captureState(s.kernels, s.events.length),
      ...(maxRows !== undefined ? { maxRows } : {}),
    });

  it('counts all problems and lists the first maxRows', () => {
    const text = report(5);
    expect(text).toContain('## Problems (30)');
    expect(text.match(/^- event \d+.*VFIO_IOMMU_MAP_DMA/gm)).toHaveLength(5);
    expect(text).toContain('(25 more problems not listed)');
  });

  it('lists every problem when they fit', () => {
    const text = report();
    expect(text).toContain('## Problems (30)');
    expect(text.match(/^- event \d+.*VFIO_IOMMU_MAP_DMA/gm)).toHaveLength(30);
    expect(text).not.toContain('more problems not listed');
  });

  it('points each refused call at the reference section of its deciding kernel function (issue 7)', () => {
    const text = report(5);
    // mainline: the container has no IOMMU driver, so the VFIO core's ioctl entry answers EINVAL
    expect(text.match(/^ {2}- see docs\/kernel\/vfio-core\.md#vfio_fops_unl_ioctl$/gm)).toHaveLength(5);
  });
});
