// C64 [mainline] — the 2^21-page pin chunk of mainline REGISTER (kernel-model.md §14.2, D2), 4 KiB host.
// Mainline returns the count pinned within the failing chunk (restarting at each 2^21 pages), or EFAULT
// when the chunk's first page fails; 4.2 fails all three with EFAULT. Nothing is charged or pinned after.
// Decided by mm_iommu_do_alloc (arch/powerpc/mm/book3s64/iommu_api.c); 4.2 mm_iommu_get.

const host = createHost({ kernel: 'mainline', pageSize: 4096, ramSize: 64n * GiB });
const ML = host.kernel === 'mainline';
const G1 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n }).addGroup();
const p = host.spawn({ name: 'qemu', memlock: 64n * GiB, capIpcLock: false });
const X = p.mmap({ size: 8n * GiB + 8192n, at: 0x100000000000n });
const Y = p.mmap({ size: 8n * GiB, at: 0x200000000000n });
const W = p.mmap({ size: 8n * GiB - 4096n, at: 0x300000000000n });
const C = p.openContainer();
expectOk(p.openGroup(G1).setContainer(C), 'C64 GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C64 SET_IOMMU(7) -> 0');
const LV0 = ML ? 0 : 2048;
expectEq(p.lockedVm, LV0, 'C64 LV after SET_IOMMU(7)');
const rx = C.registerMemory({ vaddr: X, size: 8n * GiB + 16384n });
if (ML) expectRet(rx, 2, 'C64 [ML] REGISTER(X, 8 GiB + 16 KiB) -> +2 (second chunk: 2 of 4 pages)');
else expectErrno(rx, 'EFAULT', 'C64 [4.2] REGISTER(X) -> EFAULT');
expectErrno(C.registerMemory({ vaddr: Y, size: 8n * GiB + 4096n }), 'EFAULT', 'C64 REGISTER(Y, 8 GiB + 4 KiB) -> EFAULT (second chunk starts unmapped)');
const rw = C.registerMemory({ vaddr: W, size: 8n * GiB + 16384n });
if (ML) expectRet(rw, 2097151, 'C64 [ML] REGISTER(W, 8 GiB + 16 KiB) -> +2097151');
else expectErrno(rw, 'EFAULT', 'C64 [4.2] REGISTER(W) -> EFAULT');
expectEq(p.lockedVm, LV0, 'C64 LV unchanged');
expectEq(p.regions().length, 0, 'C64 no region');
expectEq(p.pins(X), 0, 'C64 no pin left');
expectErrno(C.mapDma({ vaddr: X, iova: 0n, size: 4096n, flags: RW }), 'EPERM', 'C64 MAP -> EPERM (not enabled)');
