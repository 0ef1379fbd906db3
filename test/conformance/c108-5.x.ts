// K8'' [5.x] — the kvm-vfio device on 5.x (kernel-model.md §13.11 K8'', §13.0.4, §13.6.2, §13.6.3): the
// table is charged to kvm->mm; GROUP_ADD still takes a VFIO external user (needs an IOMMU driver);
// SET_SPAPR_TCE of a group that was never added is EINVAL (mainline: ENOENT, K8), and of a group whose
// default window is still pending is EINVAL (the PE has no table yet).

const host = createHost({ kernel: '5.x', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: gpa 0 -> R');
const L32 = 0x80000000;
const C = qemu.openContainer();
const g1 = qemu.openGroup(G1);
expectOk(g1.setContainer(C), "K8'' SET_CONTAINER(G1, C), no SET_IOMMU");
const t64 = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n });
expectOk(t64, "K8'' _64(L32) -> 0");
const t = t64.out!.table;
expectEq(t.chargedPages, 33, "K8'' charge 33 (kvm->mm)");
expectEq(qemu.lockedVm, 33, "K8'' LV 33");
qemu.memlock = 40n * 65536n;
expectErrno(vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }), 'ENOMEM', "K8'' memlock 40 pages: duplicate L32 -> ENOMEM");
qemu.memlock = 16n * GiB;
expectErrno(vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }), 'EBUSY', "K8'' memlock 16 GiB: duplicate L32 -> EBUSY");
expectEq(qemu.lockedVm, 33, "K8'' LV 33 after the refused duplicates");
const d = vm.createVfioDevice();
expectOk(d, "K8'' CREATE_DEVICE -> 0");
const dev = d.out!.device;
expectErrno(dev.addGroup(g1), 'EINVAL', "K8'' GROUP_ADD(G1) -> EINVAL (no IOMMU driver)");
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), "K8'' SET_IOMMU(7) -> 0");
expectEq(qemu.lockedVm, 33, "K8'' LV 33: default window pending");
expectOk(dev.addGroup(g1), "K8'' GROUP_ADD(G1) -> 0");
expectErrno(dev.addGroup(g1), 'EEXIST', "K8'' GROUP_ADD(G1) again -> EEXIST");
const g2 = qemu.openGroup(G2);
expectErrno(dev.setSpaprTce(g2, t), 'EINVAL', "K8'' SET_SPAPR_TCE(G2, in no container) -> EINVAL (external user)");
expectErrno(dev.setSpaprTce(g1, t), 'EINVAL', "K8'' SET_SPAPR_TCE(G1, L32) -> EINVAL (default window pending: no table)");
expectEq(qemu.lockedVm, 33, "K8'' LV 33");
