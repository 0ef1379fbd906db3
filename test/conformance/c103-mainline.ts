// K3 [mainline] — H_PUT_TCE / H_GET_TCE on a KVM table without VFIO (kernel-model.md §13.11 K3,
// §13.8.1, §13.8.4, §13.9.2). The kernel stores aligned TCEs inside a memslot and poison values; it
// answers H_PARAMETER for a misaligned or out-of-window ioba; it exits to QEMU for a TCE address not
// 4 KiB aligned, outside every memslot, or for an unknown LIOBN. QEMU's table is the KVM table's mmap.
// ENABLE_HCALL can take H_PUT_TCE away from the kernel and give it back.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
phb.addGroup();
phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const R2 = qemu.mmap({ size: 64n * KiB, at: 0x7ffe00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'K3 memslot 0');
expectOk(vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x100000000n, memorySize: 64n * KiB, userspaceAddr: R2 }), 'K3 memslot 1');
const L32 = 0x80000000;
const t = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }).out!.table;
expectEq(qemu.lockedVm, 33, 'K3 LV 33');

expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_SUCCESS, 'kernel', 'K3 PUT(L32, 0x1000, 0x2003) -> H_SUCCESS kernel');
expectEq(t.tce(1), 0x2003n, 'K3 T[1] = 0x2003');
const g = vm.hcall.getTce(L32, 0x1000n);
expectHcall(g, H_SUCCESS, 'kernel', 'K3 GET(L32, 0x1000) -> H_SUCCESS kernel');
expectEq(g.value, 0x2003n, 'K3 GET value 0x2003');
expectHcall(vm.hcall.putTce(L32, 0x1800n, 0x5003n), H_PARAMETER, 'kernel', 'K3 PUT(L32, 0x1800, 0x5003) -> H_PARAMETER kernel (ioba misaligned)');
expectEq(t.tce(1), 0x2003n, 'K3 T[1] unchanged');
expectHcall(vm.hcall.putTce(L32, 0x40000000n, 0x3n), H_PARAMETER, 'kernel', 'K3 PUT(L32, 0x40000000, 0x3) -> H_PARAMETER');
expectHcall(vm.hcall.getTce(L32, 0x40000000n), H_PARAMETER, 'kernel', 'K3 GET(L32, 0x40000000) -> H_PARAMETER');

const q = vm.qemu.addTable({ kvm: t });
expectEq(q.kvmBacked, true, 'K3 QEMU table backed by the KVM table');
const e1 = vm.hcall.putTce(L32, 0x2000n, 0x2803n);
expectHcall(e1, H_TOO_HARD, 'qemu', 'K3 PUT(L32, 0x2000, 0x2803) -> exit (address not 4 KiB aligned)');
expectEq(t.tce(2), 0n, 'K3 T[2] = 0 after the exit');
expectHcall(vm.qemu.handle(e1), H_SUCCESS, 'qemu', 'K3 QEMU -> H_SUCCESS');
expectEq(t.tce(2), 0x2803n, 'K3 T[2] = 0x2803 (written through the mmap)');
const e2 = vm.hcall.putTce(L32, 0x3000n, 0x200000003n);
expectHcall(e2, H_TOO_HARD, 'qemu', 'K3 PUT(L32, 0x3000, 0x200000003) -> exit (gpa 8 GiB in no memslot)');
expectEq(t.tce(3), 0n, 'K3 T[3] = 0 after the exit');
const h2 = vm.qemu.handle(e2);
expectHcall(h2, H_SUCCESS, 'qemu', 'K3 QEMU -> H_SUCCESS');
expectEq(t.tce(3), 0x200000003n, 'K3 T[3] = 0x200000003');
expectEq(h2.vfio?.length, 0, 'K3 no VFIO call');
const e3 = vm.hcall.putTce(0x12345678, 0n, 0x3n);
expectHcall(e3, H_TOO_HARD, 'qemu', 'K3 PUT(0x12345678, 0, 0x3) -> exit');
expectHcall(vm.qemu.handle(e3), H_PARAMETER, 'qemu', 'K3 QEMU -> H_PARAMETER (unknown to QEMU too)');
expectHcall(vm.hcall.putTce(L32, 0x4000n, 0x12340000n), H_SUCCESS, 'kernel', 'K3 PUT(L32, 0x4000, 0x12340000) (no R/W) -> H_SUCCESS kernel');
expectEq(t.tce(4), 0x12340000n, 'K3 T[4] = 0x12340000');
expectHcall(vm.hcall.putTce(L32, 0x1000n, 0n), H_SUCCESS, 'kernel', 'K3 PUT(L32, 0x1000, 0) -> H_SUCCESS');
expectEq(t.tce(1), 0n, 'K3 T[1] = 0');

expectOk(vm.enableHcall(H_PUT_TCE, false), 'K3 ENABLE_CAP(ENABLE_HCALL, [H_PUT_TCE, 0]) -> 0');
expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_TOO_HARD, 'qemu', 'K3 H_PUT_TCE disabled: PUT -> exit');
expectEq(t.tce(1), 0n, 'K3 T[1] still 0');
expectOk(vm.enableHcall(H_PUT_TCE, true), 'K3 ENABLE_CAP(ENABLE_HCALL, [H_PUT_TCE, 1]) -> 0');
expectHcall(vm.hcall.putTce(L32, 0x1000n, 0x2003n), H_SUCCESS, 'kernel', 'K3 enabled again: PUT -> H_SUCCESS kernel');
expectEq(qemu.lockedVm, 33, 'K3 LV 33 throughout');
