/**
 * 4.2 IODA1 (no table-group ops): VFIO borrows the kernel's 4 KiB table as window 0 (§4.2 item 4). Such a
 * window cannot be removed (no unset op: EPERM, §4.11) and no window can be created (no page sizes), but
 * v2 maps into the borrowed table through pre-registered memory.
 */
import { describe, expect, it } from 'vitest';
import { runDirect } from '../support/direct.ts';

const src = `
const host = createHost({ kernel: '4.2' });
const G3 = host.addPhb({ model: 'IODA1' }).addGroup();
const p = host.spawn({ memlock: 16n * GiB });
const R = p.mmap({ size: 1n * GiB });
const C = p.openContainer();
expectOk(p.openGroup(G3).setContainer(C));
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));
expectEq(p.lockedVm, 64, 'view of the borrowed table');
expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }));
expectOk(C.mapDma({ vaddr: R, iova: 0n, size: 0x1000n }));
expectEq(C.tce(0, 0).ua, R);
expectErrno(C.removeWindow({ startAddr: 0n }), 'EPERM', 'REMOVE of the borrowed kernel table');
expectErrno(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'EINVAL', 'CREATE without page sizes');
expectEq(C.window(0)?.entries, 524288, 'the borrowed window is still there');
`;

describe('4.2 IODA1 borrowed table', () => {
  it('maps through pre-registered memory but cannot be removed or joined by a DDW window', () => {
    const r = runDirect(src, '4.2');
    expect(r.failures).toEqual([]);
    expect(r.events.filter((e) => e.kind === 'expect')).toHaveLength(9);
  });
});
