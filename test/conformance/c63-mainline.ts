// C63 [mainline] — REGISTER of a range that cannot be pinned to its end (kernel-model.md §14.2, D2).
// Mainline pins before it tests for overlap, in chunks of 2^21 pages; a chunk that pins only part of its
// pages ends the call with that count as a positive return value, after undoing every pin and the charge
// (no region, container not enabled). 4.2 pins page by page and fails with EFAULT; it tests overlap first.
// Decided by mm_iommu_do_alloc (iommu_api.c), tce_iommu_register_pages; 4.2 mm_iommu_get.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const ML = host.kernel === 'mainline';
const G1 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n }).addGroup();
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const K = 0x10000n;
const A = p.mmap({ size: 2n * K, at: 0x7e0000000000n }); // nothing mapped after A
const B = p.mmap({ size: K, at: 0x7e0001000000n }); // writable page, then a read-only one
p.mmap({ size: K, at: B + K, prot: 'r' });
const Z = p.mmap({ size: 3n * K, at: 0x7e0002000000n }); // 3 pages, a 1-page hole, 4 pages
p.mmap({ size: 4n * K, at: Z + 4n * K });
const C = p.openContainer();
expectOk(p.openGroup(G1).setContainer(C), 'C63 GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C63 SET_IOMMU(7) -> 0');
const LV0 = ML ? 0 : 128;
expectEq(p.lockedVm, LV0, 'C63 LV after SET_IOMMU(7)');
const partial = (r: { ret: number }, n: number, label: string): void =>
  ML ? expectRet(r as never, n, label + ` -> +${n}`) : expectErrno(r as never, 'EFAULT', label + ' -> EFAULT');

partial(C.registerMemory({ vaddr: A + K, size: 2n * K }), 1, 'C63 REGISTER(A+64K, 128K)');
expectEq(p.lockedVm, LV0, 'C63 LV unchanged');
expectEq(p.regions().length, 0, 'C63 no region');
expectEq(p.pins(A + K), 0, 'C63 no pin left');
expectErrno(C.mapDma({ vaddr: A, iova: 0n, size: K, flags: RW }), 'EPERM', 'C63 MAP -> EPERM (container not enabled)');
if (ML) expectEq(C.defaultWindowPending, true, 'C63 [ML] default window still pending');
partial(C.registerMemory({ vaddr: A, size: 4n * K }), 2, 'C63 REGISTER(A, 256K)');
expectErrno(C.registerMemory({ vaddr: A + 2n * K, size: K }), 'EFAULT', 'C63 REGISTER(A+128K, 64K) -> EFAULT (first page unmapped)');
partial(C.registerMemory({ vaddr: B, size: 2n * K }), 1, 'C63 REGISTER(B, 128K)');
partial(C.registerMemory({ vaddr: Z, size: 8n * K }), 3, 'C63 REGISTER(Z, 512K)');
expectEq(p.lockedVm, LV0, 'C63 LV still unchanged');
expectOk(C.registerMemory({ vaddr: Z + 4n * K, size: 4n * K }), 'C63 REGISTER(Z+256K, 256K) -> 0');
expectEq(p.lockedVm, LV0 + 4, 'C63 LV +4');
const over = C.registerMemory({ vaddr: Z + 6n * K, size: 4n * K });
if (ML) expectRet(over, 2, 'C63 [ML] REGISTER(Z+384K, 256K) overlapping, tail unmapped -> +2 (pinning comes first)');
else expectErrno(over, 'EINVAL', 'C63 [4.2] REGISTER(Z+384K, 256K) overlapping -> EINVAL (overlap tested first)');
expectEq(p.lockedVm, LV0 + 4, 'C63 LV unchanged by the refused REGISTER');
expectOk(C.registerMemory({ vaddr: A, size: 2n * K }), 'C63 REGISTER(A, 128K) -> 0');
expectEq(p.lockedVm, LV0 + 6, 'C63 LV +2');
expectOk(C.mapDma({ vaddr: A, iova: 0n, size: K, flags: RW }), 'C63 MAP(A, 0, 64K) -> 0');
expectEq(p.lockedVm, LV0 + 6 + (ML ? 128 : 0), 'C63 LV after MAP (ML: the default window +128)');
