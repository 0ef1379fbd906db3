// C60 [ML] — a TCE table holds at least one system page of TCEs (kernel-model.md §14.1, D1).
// A 256 MiB @ 64 KiB window asks for 4096 TCEs but gets it_size = PAGE_SIZE/8 = 8192 and spans 512 MiB:
// MAP/UNMAP/REMOVE bound by it_size. A 1 GiB @ 16 MiB window spans 128 GiB. A 16 MiB tce32 group's
// default window (4 KiB pages) spans 32 MiB. locked_vm is what get_table_size charged, as before.
// Decided by pnv_pci_ioda2_table_alloc_pages / pnv_pci_setup_iommu_table, tce_iommu_find_table.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const ML = host.kernel === 'mainline';
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = p.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const C = p.openContainer();
expectOk(p.openGroup(G1).setContainer(C), 'C60 GROUP_SET_CONTAINER(G1, C) -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C60 SET_IOMMU(7) -> 0');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'C60 REGISTER(R, 4 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), 'C60 REMOVE(0) -> 0');
expectEq(p.lockedVm, 65536, 'C60 LV 65536');
const region = (): number => p.regions().find((r) => r.ua === R)!.mapped;

const w = C.createWindow({ pageShift: 16, windowSize: 256n * MiB, levels: 1 });
expectOk(w, 'C60 CREATE(16, 256 MiB, 1) -> 0');
expectEq(w.out?.startAddr, 0n, 'C60 the window is at bus address 0');
expectEq(p.lockedVm, 65538, 'C60 LV 65538 (table 2 x 1)');
expectEq(C.window(0)?.entries, 8192, 'C60 window 0 has it_size = 8192 entries, not 4096');
expectEq(C.window(0)?.size, 512n * MiB, 'C60 window 0 spans 512 MiB');
expectOk(C.mapDma({ vaddr: R, iova: 0x10000000n, size: 0x10000n, flags: RW }), 'C60 MAP(R, 0x10000000, 64K) -> 0 (past the requested end)');
expectEq(C.tce(0, 4096).value, p.hpa(R) | 3n, 'C60 TCE0[4096] = hpa(R)|3');
expectEq(C.tce(0, 4096).ua, R, 'C60 TCE0[4096] ua R');
expectOk(C.mapDma({ vaddr: R + 0x10000n, iova: 0x1fff0000n, size: 0x10000n, flags: RW }), 'C60 MAP(R+64K, 0x1FFF0000, 64K) -> 0');
expectEq(C.tce(0, 8191).value, p.hpa(R + 0x10000n) | 3n, 'C60 TCE0[8191] = hpa(R+64K)|3');
expectOk(C.mapDma({ vaddr: R + 0x20000n, iova: 0x0fff0000n, size: 0x20000n, flags: RW }), 'C60 MAP(R+128K, 0x0FFF0000, 128K) -> 0');
expectEq(C.tce(0, 4095).value, p.hpa(R + 0x20000n) | 3n, 'C60 TCE0[4095] = hpa(R+128K)|3');
expectEq(C.tce(0, 4096).value, p.hpa(R + 0x30000n) | 3n, 'C60 TCE0[4096] replaced by hpa(R+192K)|3');
expectEq(region(), 4, 'C60 R mapped 4');
expectErrno(C.mapDma({ vaddr: R, iova: 0x20000000n, size: 0x10000n, flags: RW }), 'ENXIO', 'C60 MAP(R, 0x20000000, 64K) -> ENXIO (past it_size)');
expectOk(C.unmapDma({ iova: 0x0fff0000n, size: 0x20000n }), 'C60 UNMAP(0x0FFF0000, 128K) -> 0');
expectEq(region(), 2, 'C60 R mapped 2');
expectOk(C.removeWindow({ startAddr: 0x1fff0000n }), 'C60 REMOVE(0x1FFF0000) -> 0 (inside the real window)');
expectEq(C.window(0), null, 'C60 window 0 gone');
expectEq(region(), 1, 'C60 R mapped 1');
expectEq(p.lockedVm, 65536, 'C60 LV 65536 after REMOVE');

const H = p.mmap({ size: 16n * MiB, hugepage: '16M' });
expectOk(C.registerMemory({ vaddr: H, size: 16n * MiB }), 'C60 REGISTER(H, 16 MiB) -> 0');
expectEq(p.lockedVm, 65792, 'C60 LV 65792');
expectOk(C.createWindow({ pageShift: 24, windowSize: 1n * GiB, levels: 1 }), 'C60 CREATE(24, 1 GiB, 1) -> 0');
expectEq(p.lockedVm, 65794, 'C60 LV 65794');
expectEq(C.window(0)?.entries, 8192, 'C60 16 MiB window: 8192 entries');
expectEq(C.window(0)?.size, 128n * GiB, 'C60 16 MiB window spans 128 GiB');
expectOk(C.mapDma({ vaddr: H, iova: 100n << 24n, size: 16n * MiB, flags: RW }), 'C60 MAP(H, 100<<24, 16 MiB) -> 0');
expectEq(C.tce(0, 100).value, p.hpa(H) | 3n, 'C60 TCE0[100] = hpa(H)|3');
expectErrno(C.mapDma({ vaddr: H, iova: 128n * GiB, size: 16n * MiB, flags: RW }), 'ENXIO', 'C60 MAP(H, 128 GiB) -> ENXIO');
expectOk(C.unmapDma({ iova: 100n << 24n, size: 16n * MiB }), 'C60 UNMAP -> 0');

// a group whose 32-bit window is 16 MiB: the default window (4 KiB pages) gets 8192 entries, 32 MiB
const phb2 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 16n * MiB, pgsizes: 0x1011000n });
const q = host.spawn({ name: 'q', memlock: 16n * GiB, capIpcLock: false });
const Q = q.mmap({ size: 1n * MiB });
const Cq = q.openContainer();
expectOk(q.openGroup(phb2.addGroup()).setContainer(Cq), 'C60 q: GROUP_SET_CONTAINER -> 0');
expectOk(Cq.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C60 q: SET_IOMMU(7) -> 0');
expectEq(q.lockedVm, ML ? 0 : 2, 'C60 q: LV after SET_IOMMU(7)');
expectEq(Cq.getInfo().out?.dma32WindowSize, 16n * MiB, 'C60 q: GET_INFO dma32_window_size 16 MiB');
expectOk(Cq.registerMemory({ vaddr: Q, size: 1n * MiB }), 'C60 q: REGISTER(Q, 1 MiB) -> 0');
expectOk(Cq.mapDma({ vaddr: Q, iova: 16n * MiB, size: 0x1000n, flags: RW }), 'C60 q: MAP(Q, 16 MiB, 4K) -> 0');
expectEq(q.lockedVm, 18, 'C60 q: LV 18');
expectEq(Cq.window(0)?.entries, 8192, 'C60 q: default window 8192 entries');
expectEq(Cq.window(0)?.size, 32n * MiB, 'C60 q: default window spans 32 MiB');
expectErrno(Cq.mapDma({ vaddr: Q, iova: 32n * MiB, size: 0x1000n, flags: RW }), 'ENXIO', 'C60 q: MAP(Q, 32 MiB) -> ENXIO');

// v1 on that PHB: ENABLE charges tce32_size >> PAGE_SHIFT, not it_size
const s = host.spawn({ name: 's', memlock: 16n * GiB, capIpcLock: false });
const S = s.mmap({ size: 1n * MiB });
const Cs = s.openContainer();
expectOk(s.openGroup(phb2.addGroup()).setContainer(Cs), 'C60 s: GROUP_SET_CONTAINER -> 0');
expectOk(Cs.setIommu(VFIO_SPAPR_TCE_IOMMU), 'C60 s: SET_IOMMU(2) -> 0');
expectEq(s.lockedVm, ML ? 0 : 1, 'C60 s: LV after SET_IOMMU(2)');
expectOk(Cs.enable(), 'C60 s: ENABLE -> 0');
expectEq(s.lockedVm, ML ? 256 : 257, 'C60 s: ENABLE +256 (tce32_size >> 16)');
expectOk(Cs.mapDma({ vaddr: S, iova: 16n * MiB, size: 0x1000n, flags: RW }), 'C60 s: MAP(S, 16 MiB, 4K) -> 0');
expectEq(s.pins(S), 1, 'C60 s: one pin');
expectEq(s.lockedVm, ML ? 258 : 257, 'C60 s: LV after MAP');
expectErrno(Cs.mapDma({ vaddr: S, iova: 32n * MiB, size: 0x1000n, flags: RW }), 'ENXIO', 'C60 s: MAP(S, 32 MiB) -> ENXIO');
