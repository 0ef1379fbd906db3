// K10' [4.2] — mlock double counting on 4.2 (kernel-model.md §13.11 K10', §13.10.3, Q-K10): mlock and
// REGISTER both count guest RAM; 4.2's mlock limit test does not subtract pages already locked, so a
// re-lock at the limit is ENOMEM; KVM tables charge nothing in 4.2, even at the limit.

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
phb.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 8n * GiB + 8n * MiB, capIpcLock: false });
const R = p.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const C = p.openContainer();
expectOk(p.openGroup(G1).setContainer(C), 'P: SET_CONTAINER(G1, C)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), "K10' SET_IOMMU(7) -> 0");
expectEq(p.lockedVm, 128, "K10' LV 128");
expectOk(p.mlock({ addr: R, size: 4n * GiB }), "K10' mlock(R, 4 GiB) -> 0");
expectEq(p.lockedVm, 65664, "K10' LV 65664");
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), "K10' REGISTER(R, 4 GiB) -> 0");
expectEq(p.lockedVm, 131200, "K10' LV 131200 (= the limit)");
expectErrno(p.mlock({ addr: R, size: 4n * GiB }), 'ENOMEM', "K10' mlock(R, 4 GiB) again -> ENOMEM (no already-locked subtraction)");
expectEq(p.lockedVm, 131200, "K10' LV 131200");
const vm = p.openKvm();
expectOk(vm.createSpaprTce({ liobn: 0x80000000, windowSize: 1n * GiB }), "K10' legacy table L32 -> 0");
expectEq(p.lockedVm, 131200, "K10' LV 131200 (KVM charges nothing in 4.2)");
expectOk(p.munlock({ addr: R, size: 4n * GiB }), "K10' munlock(R, 4 GiB) -> 0");
expectEq(p.lockedVm, 65664, "K10' LV 65664");
expectOk(C.unregisterMemory({ vaddr: R, size: 4n * GiB }), "K10' UNREGISTER(R, 4 GiB) -> 0");
expectEq(p.lockedVm, 128, "K10' LV 128");
