// K5 [mainline] — memory that is not pre-registered: exit, QEMU's fallback, MAP_DMA EINVAL
// (kernel-model.md §13.11 K5, §13.9.4 item 1, Q-K7). The kernel refuses a TCE into R2 (not registered)
// as a whole; QEMU stores it and issues MAP_DMA, which the v2 container refuses; the guest still sees
// H_SUCCESS. After REGISTER(R2) the kernel maps it. With H_PUT_TCE disabled every update is a VFIO ioctl.

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
const q = vm.qemu.addTable({ kvm: t32, container: C });
const r2mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R2)?.mapped;

const e1 = vm.hcall.putTce(L32, 0x4000n, 0x100000003n);
expectHcall(e1, H_TOO_HARD, 'qemu', 'K5 PUT(L32, 0x4000, 0x100000003) -> exit (R2 not pre-registered)');
expectEq(t32.tce(4), 0n, 'K5 T[4] = 0 after the exit');
expectEq(C.tce(0, 4).value, 0n, 'K5 TCE0[4] = 0 after the exit');
expectEq(mapped(), 1, 'K5 R mapped 1');
const h1 = vm.qemu.handle(e1);
expectHcall(h1, H_SUCCESS, 'qemu', 'K5 QEMU -> H_SUCCESS');
expectEq(h1.vfio?.length, 1, 'K5 one VFIO call');
expectEq(h1.vfio?.[0]?.op, 'VFIO_IOMMU_MAP_DMA', 'K5 the call is MAP_DMA');
expectEq(h1.vfio?.[0]?.vaddr, R2, 'K5 MAP_DMA vaddr R2');
expectEq(h1.vfio?.[0]?.iova, 0x4000n, 'K5 MAP_DMA iova 0x4000');
expectEq(h1.vfio?.[0]?.size, 0x1000n, 'K5 MAP_DMA size 0x1000');
expectEq(h1.vfio?.[0]?.flags, 3, 'K5 MAP_DMA flags 3');
expectEq(h1.vfio?.[0]?.result.errno, 'EINVAL', 'K5 MAP_DMA -> EINVAL');
expectEq(t32.tce(4), 0x100000003n, 'K5 T[4] = 0x100000003');
expectEq(q.tce(4), 0x100000003n, "K5 QEMU's entry 4 is the kernel's");
expectEq(C.tce(0, 4).value, 0n, 'K5 TCE0[4] = 0');

expectOk(C.registerMemory({ vaddr: R2, size: 0x10000n }), 'K5 REGISTER(R2, 0x10000) -> 0');
expectEq(qemu.lockedVm, 65634, 'K5 LV 65634');
expectHcall(vm.hcall.putTce(L32, 0x4000n, 0x100000003n), H_SUCCESS, 'kernel', 'K5 PUT(L32, 0x4000, 0x100000003) -> H_SUCCESS kernel');
expectEq(C.tce(0, 4).value, qemu.hpa(R2) | 3n, 'K5 TCE0[4] = hpa(R2)|3');
expectEq(r2mapped(), 2, 'K5 R2 mapped 2');
expectHcall(vm.hcall.putTce(L32, 0x4000n, 0n), H_SUCCESS, 'kernel', 'K5 PUT(L32, 0x4000, 0) -> H_SUCCESS');
expectEq(C.tce(0, 4).value, 0n, 'K5 TCE0[4] = 0');
expectEq(r2mapped(), 1, 'K5 R2 mapped 1');

expectOk(vm.enableHcall(H_PUT_TCE, false), 'K5 H_PUT_TCE disabled');
const e2 = vm.hcall.putTce(L32, 0x5000n, 0x6003n);
expectHcall(e2, H_TOO_HARD, 'qemu', 'K5 PUT(L32, 0x5000, 0x6003) -> exit');
const h2 = vm.qemu.handle(e2);
expectHcall(h2, H_SUCCESS, 'qemu', 'K5 QEMU -> H_SUCCESS');
expectEq(h2.vfio?.[0]?.op, 'VFIO_IOMMU_MAP_DMA', 'K5 MAP_DMA issued');
expectEq(h2.vfio?.[0]?.vaddr, R + 0x6000n, 'K5 MAP_DMA vaddr R+0x6000');
expectEq(h2.vfio?.[0]?.result.ret, 0, 'K5 MAP_DMA(R+0x6000, 0x5000, 0x1000, 3) -> 0');
expectEq(C.tce(0, 5).value, qemu.hpa(R + 0x6000n) | 3n, 'K5 TCE0[5] = hpa(R+0x6000)|3');
expectEq(mapped(), 2, 'K5 R mapped 2');
expectEq(t32.tce(5), 0x6003n, 'K5 T[5] = 0x6003');
const e3 = vm.hcall.putTce(L32, 0x5000n, 0n);
expectHcall(e3, H_TOO_HARD, 'qemu', 'K5 PUT(L32, 0x5000, 0) -> exit');
const h3 = vm.qemu.handle(e3);
expectHcall(h3, H_SUCCESS, 'qemu', 'K5 QEMU -> H_SUCCESS');
expectEq(h3.vfio?.[0]?.op, 'VFIO_IOMMU_UNMAP_DMA', 'K5 UNMAP_DMA issued');
expectEq(h3.vfio?.[0]?.result.ret, 0, 'K5 UNMAP_DMA(0x5000, 0x1000) -> 0');
expectEq(C.tce(0, 5).value, 0n, 'K5 TCE0[5] = 0');
expectEq(mapped(), 1, 'K5 R mapped 1');
expectEq(t32.tce(5), 0n, 'K5 T[5] = 0');
expectEq(qemu.lockedVm, 65634, 'K5 LV 65634 at the end');
void G2;
