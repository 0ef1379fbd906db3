// K9 [mainline] — closing the table fd and the VM fd (kernel-model.md §13.11 K9, §13.5, Q-K3).
// Closing a linked table refunds its charge and forgets the LIOBN but leaves the hardware TCE it wrote
// (and `mapped`); the VM fd alone releases nothing while table and device fds are open; the container's
// release returns the window and the region.

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
// QK: Q + KVM table L32, kvm-vfio device, GROUP_ADD(G1), SET_SPAPR_TCE(G1, L32)
const t32 = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }).out!.table;
expectEq(qemu.lockedVm, 65633, 'QK: LV 65633 with L32');
expectOk(vm.attachVfioGroup(g1, t32), 'QK: device, GROUP_ADD(G1), SET_SPAPR_TCE(G1, L32) -> 0');
expectEq(qemu.lockedVm, 65633, 'QK: LV 65633');
expectEq(qemu.regions()[0]?.mapped, 1, 'QK: R mapped 1');
const mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R)?.mapped;

expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_SUCCESS, 'kernel', 'K9 PUT(L32, 0x1000, 0x2003) -> H_SUCCESS');
expectEq(mapped(), 2, 'K9 mapped 2');
t32.close();
expectEq(qemu.lockedVm, 65600, 'K9 close(L32) -> LV 65600');
expectEq(C.tce(0, 1).value, qemu.hpa(R + 0x2000n) | 3n, 'K9 TCE0[1] still hpa(R+0x2000)|3');
expectEq(mapped(), 2, 'K9 mapped 2 after the close');
expectHcall(vm.hcall.putTce(L32, 0x2000n, 0x3003n), H_TOO_HARD, 'qemu', 'K9 PUT(L32, 0x2000, 0x3003) -> exit (LIOBN gone)');
expectOk(C.unmapDma({ iova: 0x1000n, size: 0x1000n }), 'K9 VFIO UNMAP(0x1000, 0x1000) -> 0');
expectEq(mapped(), 1, 'K9 mapped 1');
const n = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n });
expectOk(n, 'K9 new _64(L32) -> 0');
expectEq(qemu.lockedVm, 65633, 'K9 LV 65633');
expectOk(vm.vfioDevice!.setSpaprTce(g1, n.out!.table), 'K9 SET_SPAPR_TCE(G1, new) -> 0');
vm.close();
expectEq(qemu.lockedVm, 65633, 'K9 close(VM fd) -> LV 65633');
vm.vfioDevice!.close();
n.out!.table.close();
expectEq(qemu.lockedVm, 65600, 'K9 close(device), close(new table) -> LV 65600');
C.close();
g1.close();
expectEq(qemu.lockedVm, 0, 'K9 close(C), close(G1) -> LV 0 (window -64, region -65536)');
void G2;
