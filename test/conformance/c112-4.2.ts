// K12 [4.2] — the QEMU/KVM guest on a 4.2 host (kernel-model.md §13.11 K12, §13.9.1, §13.9.4 item 3).
// No KVM_CAP_SPAPR_TCE_VFIO: QEMU keeps a userspace table for the VFIO window, so every guest TCE update
// exits and costs a VFIO ioctl; QEMU drops ioba misalignment and maps read-only TCEs with flags READ.
// The spapr-vio KVM table charges nothing on 4.2.

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: gpa 0 -> R');
const L32 = 0x80000000;
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE_VFIO), 0, 'K12 CHECK_EXTENSION(142) -> 0');
const C = qemu.openContainer();
const g1 = qemu.openGroup(G1);
expectOk(g1.setContainer(C), 'Q: SET_CONTAINER(G1, C)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'Q: SET_IOMMU(7)');
expectEq(qemu.lockedVm, 128, 'Q: LV 128');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'Q: REGISTER(R, 4 GiB)');
expectEq(qemu.lockedVm, 65664, 'Q: LV 65664');
expectOk(C.removeWindow({ startAddr: 0n }), 'Q: REMOVE(0)');
expectEq(qemu.lockedVm, 65536, 'Q: LV 65536');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'Q: TCE_CREATE(12, 1 GiB, 1)');
expectEq(qemu.lockedVm, 65600, 'Q: LV 65600');
const mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R)?.mapped;

const q = vm.qemu.addTable({ liobn: L32, pageShift: 12, busOffset: 0n, entries: 262144, container: C });
expectEq(q.kvmBacked, false, 'K12 QEMU table L32 is a userspace table');
expectOk(vm.createSpaprTce({ liobn: 0x71000002, windowSize: 256n * MiB }), 'K12 spapr-vio KVM table (0x71000002, 256 MiB) -> 0');
expectEq(qemu.lockedVm, 65600, 'K12 LV 65600');

const e1 = vm.hcall.putTce(L32, 0x1000n, 0x2003n);
expectHcall(e1, H_TOO_HARD, 'qemu', 'K12 PUT(L32, 0x1000, 0x2003) -> exit');
const h1 = vm.qemu.handle(e1);
expectHcall(h1, H_SUCCESS, 'qemu', 'K12 QEMU -> H_SUCCESS');
expectEq(h1.vfio?.[0]?.op, 'VFIO_IOMMU_MAP_DMA', 'K12 MAP_DMA issued');
expectEq(h1.vfio?.[0]?.vaddr, R + 0x2000n, 'K12 MAP_DMA vaddr R+0x2000');
expectEq(h1.vfio?.[0]?.iova, 0x1000n, 'K12 MAP_DMA iova 0x1000');
expectEq(h1.vfio?.[0]?.flags, 3, 'K12 MAP_DMA flags 3');
expectEq(h1.vfio?.[0]?.result.ret, 0, 'K12 MAP_DMA -> 0');
expectEq(C.tce(0, 1).value, qemu.hpa(R + 0x2000n) | 3n, 'K12 TCE0[1] = hpa(R+0x2000)|3');
expectEq(mapped(), 2, 'K12 mapped 2');
expectEq(q.tce(1), 0x2003n, 'K12 QEMU T[1] = 0x2003');
const e2 = vm.hcall.putTce(L32, 0x1800n, 0x5001n);
expectHcall(e2, H_TOO_HARD, 'qemu', 'K12 PUT(L32, 0x1800, 0x5001) -> exit');
const h2 = vm.qemu.handle(e2);
expectHcall(h2, H_SUCCESS, 'qemu', 'K12 QEMU -> H_SUCCESS (ioba masked to 0x1000)');
expectEq(h2.vfio?.[0]?.vaddr, R + 0x5000n, 'K12 MAP_DMA vaddr R+0x5000');
expectEq(h2.vfio?.[0]?.iova, 0x1000n, 'K12 MAP_DMA iova 0x1000');
expectEq(h2.vfio?.[0]?.flags, 1, 'K12 MAP_DMA flags 1 (read-only)');
expectEq(h2.vfio?.[0]?.result.ret, 0, 'K12 MAP_DMA -> 0');
expectEq(C.tce(0, 1).value, qemu.hpa(R + 0x5000n) | 1n, 'K12 TCE0[1] = hpa(R+0x5000)|1');
expectEq(mapped(), 2, 'K12 mapped 2');
const e3 = vm.hcall.getTce(L32, 0x1000n);
expectHcall(e3, H_TOO_HARD, 'qemu', 'K12 GET(L32, 0x1000) -> exit');
const h3 = vm.qemu.handle(e3);
expectHcall(h3, H_SUCCESS, 'qemu', 'K12 QEMU -> H_SUCCESS');
expectEq(h3.value, 0x5001n, 'K12 QEMU GET value 0x5001');
const e4 = vm.hcall.putTce(L32, 0x1000n, 0n);
expectHcall(e4, H_TOO_HARD, 'qemu', 'K12 PUT(L32, 0x1000, 0) -> exit');
const h4 = vm.qemu.handle(e4);
expectEq(h4.vfio?.[0]?.op, 'VFIO_IOMMU_UNMAP_DMA', 'K12 UNMAP_DMA issued');
expectEq(h4.vfio?.[0]?.result.ret, 0, 'K12 UNMAP_DMA(0x1000, 0x1000) -> 0');
expectEq(mapped(), 1, 'K12 mapped 1');
const e5 = vm.hcall.putTceIndirect(L32, 0x2000n, [0x10003n, 0x11003n]);
expectHcall(e5, H_TOO_HARD, 'qemu', 'K12 INDIRECT(L32, 0x2000, 2 TCEs) -> exit');
const h5 = vm.qemu.handle(e5);
expectEq(h5.vfio?.map((c) => c.result.ret).join(','), '0,0', 'K12 2 MAP_DMA -> 0, 0');
expectEq(mapped(), 3, 'K12 mapped 3');
const e6 = vm.hcall.putTce(L32, 0x40000000n, 0x3n);
expectHcall(e6, H_TOO_HARD, 'qemu', 'K12 PUT(L32, 0x40000000, 0x3) -> exit');
const h6 = vm.qemu.handle(e6);
expectHcall(h6, H_PARAMETER, 'qemu', 'K12 QEMU -> H_PARAMETER');
expectEq(h6.vfio?.length, 0, 'K12 no VFIO call');
expectEq(qemu.lockedVm, 65600, 'K12 LV 65600 throughout');
void G2;
