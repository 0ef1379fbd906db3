// K8 [mainline] — the kvm-vfio device and SET_SPAPR_TCE checks (kernel-model.md §13.11 K8, §13.6).
// One device per VM (EBUSY); SET_SPAPR_TCE of a group not added is ENOENT (mainline needs no container);
// another VM's table is EINVAL, a closed table fd EBADF; GROUP_DEL drops the link and the table is an
// emulated one again.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const R2 = qemu.mmap({ size: 64n * KiB, at: 0x7ffe00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: gpa 0 -> R');
expectOk(vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x100000000n, memorySize: 64n * KiB, userspaceAddr: R2 }), 'memslot 1: gpa 4 GiB -> R2');
const L32 = 0x80000000;
const L64 = 0x80000001;
// Q: VFIO the QEMU way
const C = qemu.openContainer();
const g1 = qemu.openGroup(G1);
expectOk(g1.setContainer(C), 'Q: SET_CONTAINER(G1, C)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'Q: SET_IOMMU(7)');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'Q: REGISTER(R, 4 GiB)');
expectOk(C.removeWindow({ startAddr: 0n }), 'Q: REMOVE(0)');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'Q: TCE_CREATE(12, 1 GiB, 1)');
expectEq(qemu.lockedVm, 65600, 'Q: LV 65600');
const mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R)?.mapped;
const t32 = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }).out!.table;
expectEq(qemu.lockedVm, 65633, 'K8 LV 65633');

const d = vm.createVfioDevice();
expectOk(d, 'K8 CREATE_DEVICE -> 0');
expectErrno(vm.createVfioDevice(), 'EBUSY', 'K8 CREATE_DEVICE again -> EBUSY');
const dev = d.out!.device;
expectErrno(dev.setSpaprTce(g1, t32), 'ENOENT', 'K8 SET_SPAPR_TCE(G1, L32) -> ENOENT (not added)');
expectOk(dev.addGroup(g1), 'K8 GROUP_ADD(G1) -> 0');
expectErrno(dev.addGroup(g1), 'EEXIST', 'K8 GROUP_ADD(G1) again -> EEXIST');
const g2 = qemu.openGroup(G2);
expectErrno(dev.setSpaprTce(g2, t32), 'ENOENT', 'K8 SET_SPAPR_TCE(G2, L32) -> ENOENT (G2 in no container, not added)');

const vm2 = qemu.openKvm();
const other = vm2.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n });
expectOk(other, "K8 second VM's L32 -> 0");
expectEq(qemu.lockedVm, 65666, 'K8 LV 65666');
expectErrno(dev.setSpaprTce(g1, other.out!.table), 'EINVAL', "K8 SET_SPAPR_TCE(G1, other VM's table) -> EINVAL");
const gone = vm.createSpaprTce64({ liobn: 0x80000005, pageShift: 16, offset: 1n << 43n, size: 65536n }).out!.table;
expectEq(qemu.lockedVm, 65675, 'K8 LV +9 for a table');
gone.close();
expectEq(qemu.lockedVm, 65666, 'K8 LV -9 when it is closed');
expectErrno(dev.setSpaprTce(g1, gone), 'EBADF', 'K8 SET_SPAPR_TCE(G1, closed table) -> EBADF');
expectOk(dev.setSpaprTce(g1, t32), 'K8 SET_SPAPR_TCE(G1, L32) -> 0');
expectEq(qemu.lockedVm, 65666, 'K8 LV 65666');
expectOk(dev.delGroup(g1), 'K8 GROUP_DEL(G1) -> 0 (link dropped)');
expectErrno(dev.delGroup(g1), 'ENOENT', 'K8 GROUP_DEL(G1) again -> ENOENT');
expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_SUCCESS, 'kernel', 'K8 PUT(L32, 0x1000, 0x2003) -> H_SUCCESS kernel');
expectEq(t32.tce(1), 0x2003n, 'K8 T[1] = 0x2003');
expectEq(C.tce(0, 1).value, 0n, 'K8 TCE0[1] = 0 (an emulated table again)');
expectEq(mapped(), 1, 'K8 mapped 1');
