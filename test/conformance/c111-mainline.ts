// K11 [mainline] — the QEMU/KVM guest, end to end (kernel-model.md §13.11 K11, §10.1, §13.9, §13.10.2).
// QEMU's order: KVM table for the 32-bit window, VFIO v2 set-up with REGISTER, the kvm-vfio device, the
// 1 GiB @ 4 KiB window linked to L32; the guest maps through H_PUT_TCE in the kernel; the guest's DDW adds
// a KVM table and a 4 GiB @ 64 KiB window, mapped with one H_PUT_TCE_INDIRECT; QEMU removes the DDW as
// it does (UNMAP, REMOVE, close the KVM table). locked_vm: 65658 at the peak = 65536 + 64 + 16 + 33 + 9.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'K11 memslot 0');
expectOk(vm.enableHcall(H_PUT_TCE_INDIRECT), 'K11 ENABLE_HCALL(H_PUT_TCE_INDIRECT) -> 0');
expectOk(vm.enableHcall(H_STUFF_TCE), 'K11 ENABLE_HCALL(H_STUFF_TCE) -> 0');
const mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R)?.mapped;

const l32 = vm.createSpaprTce64({ liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n });
expectOk(l32, 'K11 _64(L32) -> 0');
expectEq(qemu.lockedVm, 33, 'K11 LV 33');
const C = qemu.openContainer();
const g1 = qemu.openGroup(G1);
expectOk(g1.setContainer(C), 'K11 SET_CONTAINER(G1, C)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'K11 SET_IOMMU(7) -> 0');
expectEq(qemu.lockedVm, 33, 'K11 LV 33 after SET_IOMMU');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'K11 REGISTER(R) -> 0');
expectEq(qemu.lockedVm, 65569, 'K11 LV 65569');
const dev = vm.createVfioDevice().out!.device;
expectOk(dev.addGroup(g1), 'K11 GROUP_ADD(G1) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), 'K11 REMOVE(0) -> 0');
expectEq(qemu.lockedVm, 65569, 'K11 LV 65569 after REMOVE(0)');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'K11 TCE_CREATE(12, 1 GiB) -> 0');
expectEq(qemu.lockedVm, 65633, 'K11 LV 65633');
expectOk(dev.setSpaprTce(g1, l32.out!.table), 'K11 SET_SPAPR_TCE(G1, L32) -> 0');
expectHcall(vm.hcall.putTce(0x80000000, 0n, 0x3n), H_SUCCESS, 'kernel', 'K11 PUT(L32, 0, 0x3) -> H_SUCCESS kernel');
expectEq(C.tce(0, 0).value, qemu.hpa(R) | 3n, 'K11 TCE0[0] = hpa(R)|3');
expectEq(mapped(), 2, 'K11 mapped 2');

const l64 = vm.createSpaprTce64({ liobn: 0x80000001, pageShift: 16, offset: 1n << 43n, size: 65536n });
expectOk(l64, 'K11 guest DDW: _64(L64) -> 0');
expectEq(qemu.lockedVm, 65642, 'K11 LV 65642');
const w = C.createWindow({ pageShift: 16, windowSize: 4n * GiB, levels: 1 });
expectEq(w.out?.startAddr, 1n << 59n, 'K11 TCE_CREATE(16, 4 GiB, 1) -> 1<<59');
expectEq(qemu.lockedVm, 65658, 'K11 LV 65658');
expectOk(dev.setSpaprTce(g1, l64.out!.table), 'K11 SET_SPAPR_TCE(G1, L64) -> 0');
const list: bigint[] = [];
for (let k = 0; k < 16; k++) list.push((BigInt(k) * 0x10000n) | 3n);
expectHcall(vm.hcall.putTceIndirect(0x80000001, 1n << 59n, list), H_SUCCESS, 'kernel', 'K11 INDIRECT(L64, 1<<59, 16 TCEs) -> H_SUCCESS kernel');
let ok = true;
for (let k = 0; k < 16; k++) if (C.tce(1, k).value !== (qemu.hpa(R + BigInt(k) * 0x10000n) | 3n)) ok = false;
expectEq(ok, true, 'K11 TCE1[k] = hpa(R+k*0x10000)|3');
expectEq(mapped(), 18, 'K11 mapped 18');
expectOk(C.unmapDma({ iova: 1n << 59n, size: 4n * GiB }), 'K11 UNMAP(1<<59, 4 GiB) -> 0');
expectEq(mapped(), 2, 'K11 mapped 2');
expectOk(C.removeWindow({ startAddr: 1n << 59n }), 'K11 REMOVE(1<<59) -> 0');
expectEq(qemu.lockedVm, 65642, 'K11 LV 65642');
l64.out!.table.close();
expectEq(qemu.lockedVm, 65633, 'K11 close(L64) -> LV 65633');
