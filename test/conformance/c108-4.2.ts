// K8' [4.2] — no acceleration in 4.2 (kernel-model.md §13.11 K8', §13.6.2, §13.6.3 4.2): GROUP_ADD needs
// a VFIO external user (container with an IOMMU driver); SET_SPAPR_TCE is an unknown attribute (ENXIO);
// the in-kernel H_PUT_TCE writes only the guest view, never the VFIO default window.

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
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
expectOk(g1.setContainer(C), "K8' SET_CONTAINER(G1, C), no SET_IOMMU");
const t = vm.createSpaprTce({ liobn: L32, windowSize: 1n * GiB }).out!.table;
const d = vm.createVfioDevice();
expectOk(d, "K8' CREATE_DEVICE -> 0");
const dev = d.out!.device;
expectErrno(dev.addGroup(g1), 'EINVAL', "K8' GROUP_ADD(G1) -> EINVAL (no IOMMU driver yet)");
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), "K8' SET_IOMMU(7) -> 0");
expectEq(qemu.lockedVm, 128, "K8' LV 128");
expectOk(dev.addGroup(g1), "K8' GROUP_ADD(G1) -> 0");
expectErrno(dev.addGroup(g1), 'EEXIST', "K8' GROUP_ADD(G1) again -> EEXIST");
expectErrno(dev.setSpaprTce(g1, t), 'ENXIO', "K8' SET_SPAPR_TCE(G1, L32) -> ENXIO");
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE_VFIO), 0, "K8' CHECK_EXTENSION(142) -> 0");
const g2 = qemu.openGroup(G2);
expectErrno(dev.addGroup(g2), 'EINVAL', "K8' GROUP_ADD(G2, in no container) -> EINVAL");
expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_SUCCESS, 'kernel', "K8' PUT(L32, 0x1000, 0x2003) -> H_SUCCESS kernel");
expectEq(t.tce(1), 0x2003n, "K8' T[1] = 0x2003");
expectEq(C.tce(0, 1).value, 0n, "K8' TCE0[1] (VFIO default window) = 0");
expectEq(qemu.lockedVm, 128, "K8' LV 128");
