// K4 [mainline] — in-kernel mapping through a linked VFIO table (kernel-model.md §13.11 K4, §13.8.1).
// With L32 linked to window 0, H_PUT_TCE writes the hardware TCE through the pre-registered region
// (mapped up and down, it_userspace), forces READ with WRITE; a VFIO UNMAP clears only the hardware
// entry (the guest view and H_GET_TCE keep the TCE, Q-K5); a KVM clear removes what VFIO mapped.

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

expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_SUCCESS, 'kernel', 'K4 PUT(L32, 0x1000, 0x2003) -> H_SUCCESS kernel');
expectEq(t32.tce(1), 0x2003n, 'K4 T[1] = 0x2003');
expectEq(C.tce(0, 1).value, qemu.hpa(R + 0x2000n) | 3n, 'K4 TCE0[1] = hpa(R+0x2000)|3');
expectEq(C.tce(0, 1).ua, R + 0x2000n, 'K4 ua0[1] = R+0x2000');
expectEq(mapped(), 2, 'K4 mapped 2');
expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x3001n), H_SUCCESS, 'kernel', 'K4 PUT(L32, 0x1000, 0x3001) -> H_SUCCESS');
expectEq(C.tce(0, 1).value, qemu.hpa(R + 0x3000n) | 1n, 'K4 TCE0[1] = hpa(R+0x3000)|1');
expectEq(C.tce(0, 1).ua, R + 0x3000n, 'K4 ua0[1] = R+0x3000');
expectEq(mapped(), 2, 'K4 mapped 2 (one up, one down)');
expectHcall(vm.hcall.putTce(L32, 0x2000n, 0x4002n), H_SUCCESS, 'kernel', 'K4 PUT(L32, 0x2000, 0x4002) -> H_SUCCESS');
expectEq(C.tce(0, 2).value, qemu.hpa(R + 0x4000n) | 3n, 'K4 TCE0[2] = hpa(R+0x4000)|3 (READ forced)');
expectEq(t32.tce(2), 0x4002n, 'K4 T[2] = 0x4002');
expectEq(mapped(), 3, 'K4 mapped 3');
expectOk(C.unmapDma({ iova: 0x1000n, size: 0x1000n }), 'K4 VFIO UNMAP(0x1000, 0x1000) -> 0');
expectEq(C.tce(0, 1).value, 0n, 'K4 TCE0[1] = 0');
expectEq(C.tce(0, 1).ua, 0n, 'K4 ua0[1] = 0');
expectEq(mapped(), 2, 'K4 mapped 2');
expectEq(t32.tce(1), 0x3001n, 'K4 T[1] = 0x3001 still');
const g = vm.hcall.getTce(L32, 0x1000n);
expectHcall(g, H_SUCCESS, 'kernel', 'K4 GET(L32, 0x1000) -> H_SUCCESS');
expectEq(g.value, 0x3001n, 'K4 GET value 0x3001 (the two views differ)');
expectOk(C.mapDma({ vaddr: R + 0x5000n, iova: 0x3000n, size: 0x1000n, flags: RW }), 'K4 VFIO MAP(R+0x5000, 0x3000, 0x1000, RW) -> 0');
expectEq(mapped(), 3, 'K4 mapped 3');
expectHcall(vm.hcall.putTce(L32, 0x3000n, 0n), H_SUCCESS, 'kernel', 'K4 PUT(L32, 0x3000, 0) -> H_SUCCESS kernel');
expectEq(C.tce(0, 3).value, 0n, 'K4 TCE0[3] = 0');
expectEq(C.tce(0, 3).ua, 0n, 'K4 ua0[3] = 0');
expectEq(mapped(), 2, 'K4 mapped 2 (KVM cleared what VFIO mapped)');
expectEq(t32.tce(3), 0n, 'K4 T[3] = 0');
expectHcall(vm.hcall.putTce(L32, 0x2000n, 0n), H_SUCCESS, 'kernel', 'K4 PUT(L32, 0x2000, 0) -> H_SUCCESS');
expectEq(mapped(), 1, 'K4 mapped 1');
expectEq(qemu.lockedVm, 65633, 'K4 LV 65633 throughout');
void G2;
