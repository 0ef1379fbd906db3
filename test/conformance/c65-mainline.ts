// C65 [mainline] — a table level larger than the largest page-allocator block (16 MiB): ENOMEM (§14.3, D3).
// A one-level table of more than 2^21 TCEs needs one block above 16 MiB; the platform's create fails with
// ENOMEM after the charge. 4.2 returns the charge (tce_iommu_create_table), 5.x/mainline keep it. The
// two-level retry (QEMU's) works. 4.2 needs host RAM >= the window: 512 GiB here.
// Decided by pnv_pci_ioda2_table_alloc_pages / pnv_alloc_tce_level, tce_iommu_create_table.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 512n * GiB });
const ML = host.kernel === 'mainline';
const G1 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n }).addGroup();
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = p.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const C = p.openContainer();
expectOk(p.openGroup(G1).setContainer(C), 'C65 GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C65 SET_IOMMU(7) -> 0');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'C65 REGISTER(R, 4 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), 'C65 REMOVE(0) -> 0');
expectEq(p.lockedVm, 65536, 'C65 LV 65536');

const w0 = C.createWindow({ pageShift: 16, windowSize: 128n * GiB, levels: 1 });
expectOk(w0, 'C65 CREATE(16, 128 GiB, 1) -> 0 (one 16 MiB level)');
expectEq(w0.out?.startAddr, 0n, 'C65 at bus address 0');
expectEq(p.lockedVm, 66048, 'C65 LV 66048');
expectErrno(C.createWindow({ pageShift: 16, windowSize: 256n * GiB, levels: 1 }), 'ENOMEM', 'C65 CREATE(16, 256 GiB, 1) -> ENOMEM (a 32 MiB level)');
expectEq(p.lockedVm, ML ? 67072 : 66048, ML ? 'C65 [ML] LV 67072: the 1024-page charge is kept' : 'C65 [4.2] LV 66048: the charge is returned');
expectEq(C.window(1), null, 'C65 slot 1 empty');
const w1 = C.createWindow({ pageShift: 16, windowSize: 256n * GiB, levels: 2 });
expectOk(w1, 'C65 CREATE(16, 256 GiB, 2) -> 0');
expectEq(w1.out?.startAddr, 1n << 59n, 'C65 at 1<<59');
expectEq(C.window(1)?.entries, 1 << 22, 'C65 2^22 entries');
expectEq(C.window(1)?.levels, 2, 'C65 2 levels');
expectEq(p.lockedVm, ML ? 68098 : 67073, ML ? 'C65 [ML] +1026' : 'C65 [4.2] +1025');
expectOk(C.mapDma({ vaddr: R, iova: (1n << 59n) + 256n * GiB - 0x10000n, size: 0x10000n, flags: RW }), 'C65 MAP(R, last TCE of window 1) -> 0');
expectOk(C.removeWindow({ startAddr: 1n << 59n }), 'C65 REMOVE(1<<59) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), 'C65 REMOVE(0) -> 0');
expectEq(p.lockedVm, ML ? 66560 : 65536, 'C65 LV after both REMOVEs');
expectErrno(C.createWindow({ pageShift: 12, windowSize: 16n * GiB, levels: 1 }), 'ENOMEM', 'C65 CREATE(12, 16 GiB, 1) -> ENOMEM');
expectEq(p.lockedVm, ML ? 67584 : 65536, 'C65 LV after the second ENOMEM');
