// K10 [mainline] — mlock double counting (kernel-model.md §13.11 K10, §13.10.3). Guest RAM locked with
// mlock and pre-registered is counted twice in locked_vm; re-locking locked pages does not count them
// again in the limit test; a KVM table fails at the limit; CAP_IPC_LOCK lifts the limit, not the count;
// munmap of locked pages uncounts them; a hole is ENOMEM; memlock 0 without CAP_IPC_LOCK is EPERM.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
phb.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 8n * GiB, capIpcLock: false });
const R = p.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const C = p.openContainer();
expectOk(p.openGroup(G1).setContainer(C), 'P: SET_CONTAINER(G1, C)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'K10 SET_IOMMU(7) -> 0');
expectEq(p.lockedVm, 0, 'K10 LV 0');
const vm = p.openKvm();
const L32 = { liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n };

expectOk(p.mlock({ addr: R, size: 4n * GiB }), 'K10 mlock(R, 4 GiB) -> 0');
expectEq(p.lockedVm, 65536, 'K10 LV 65536');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'K10 REGISTER(R, 4 GiB) -> 0');
expectEq(p.lockedVm, 131072, 'K10 LV 131072 (counted twice)');
expectErrno(vm.createSpaprTce64(L32), 'ENOMEM', 'K10 _64(L32) -> ENOMEM');
expectEq(p.lockedVm, 131072, 'K10 LV 131072');
expectOk(p.mlock({ addr: R, size: 4n * GiB }), 'K10 mlock(R, 4 GiB) again -> 0 (already locked pages subtracted in the test)');
expectEq(p.lockedVm, 131072, 'K10 LV 131072 after the re-lock');
expectOk(p.munlock({ addr: R, size: 4n * GiB }), 'K10 munlock(R, 4 GiB) -> 0');
expectEq(p.lockedVm, 65536, 'K10 LV 65536');
expectOk(vm.createSpaprTce64(L32), 'K10 _64(L32) -> 0');
expectEq(p.lockedVm, 65569, 'K10 LV 65569');
expectErrno(p.mlock({ addr: R, size: 4n * GiB }), 'ENOMEM', 'K10 mlock(R, 4 GiB) -> ENOMEM (65536 + 65569 > 131072)');
expectEq(p.lockedVm, 65569, 'K10 LV 65569 after ENOMEM');

p.capIpcLock = true;
expectOk(p.mlock({ addr: R, size: 4n * GiB }), 'K10 with CAP_IPC_LOCK: mlock(R, 4 GiB) -> 0');
expectEq(p.lockedVm, 131105, 'K10 LV 131105');
const M = p.mmap({ size: 64n * KiB });
expectOk(p.mlock({ addr: M, size: 64n * KiB }), 'K10 mlock(M, 64 KiB) -> 0');
expectEq(p.lockedVm, 131106, 'K10 LV 131106');
p.munmap(M, 64n * KiB);
expectEq(p.lockedVm, 131105, 'K10 munmap(M) -> LV 131105');
const H = p.mmap({ size: 128n * KiB });
p.munmap(H, 128n * KiB);
expectErrno(p.mlock({ addr: H, size: 128n * KiB }), 'ENOMEM', 'K10 mlock of a 128 KiB hole -> ENOMEM');
expectEq(p.lockedVm, 131105, 'K10 LV 131105 after the hole');

const q = host.spawn({ name: 'other', memlock: 0n, capIpcLock: false });
const Q = q.mmap({ size: 64n * KiB });
expectErrno(q.mlock({ addr: Q, size: 64n * KiB }), 'EPERM', 'K10 memlock 0, no CAP_IPC_LOCK: mlock -> EPERM');
expectEq(q.lockedVm, 0, 'K10 LV 0 for that process');
