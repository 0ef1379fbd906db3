// K3' [4.2] — H_PUT_TCE / H_GET_TCE on 4.2 (kernel-model.md §13.11 K3', §13.8.1 4.2): the real-mode
// handler checks only `ioba >= window_size`, indexes by ioba >> 12 (0x1800 writes entry 1) and never
// looks at the TCE; INDIRECT and STUFF cannot be enabled and always go to QEMU, which writes the KVM
// table through its mmap.

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: gpa 0 -> R');
const L32 = 0x80000000;
const t = vm.createSpaprTce({ liobn: L32, windowSize: 1n * GiB }).out!.table;
expectEq(qemu.lockedVm, 0, "K3' LV 0");
const p1 = vm.hcall.putTce(L32, 0x1000n, 0x2003n);
expectHcall(p1, H_SUCCESS, 'kernel', "K3' PUT(L32, 0x1000, 0x2003) -> H_SUCCESS kernel");
expectEq(p1.mode, 'real', "K3' answered by the real-mode handler");
expectEq(t.tce(1), 0x2003n, "K3' T[1] = 0x2003");
const g = vm.hcall.getTce(L32, 0x1000n);
expectHcall(g, H_SUCCESS, undefined, "K3' GET(L32, 0x1000) -> H_SUCCESS");
expectEq(g.value, 0x2003n, "K3' GET value 0x2003");
expectHcall(vm.hcall.putTce(L32, 0x1800n, 0x5003n), H_SUCCESS, 'kernel', "K3' PUT(L32, 0x1800, 0x5003) -> H_SUCCESS kernel");
expectEq(t.tce(1), 0x5003n, "K3' T[1] = 0x5003 (index 0x1800 >> 12 = 1)");
expectHcall(vm.hcall.putTce(L32, 0x40000000n, 0x3n), H_PARAMETER, 'kernel', "K3' PUT(L32, 0x40000000, 0x3) -> H_PARAMETER");
expectHcall(vm.hcall.putTce(L32, 0x2000n, 0x2803n), H_SUCCESS, 'kernel', "K3' PUT(L32, 0x2000, 0x2803) -> H_SUCCESS");
expectEq(t.tce(2), 0x2803n, "K3' T[2] = 0x2803");
expectHcall(vm.hcall.putTce(L32, 0x3000n, 0x200000003n), H_SUCCESS, 'kernel', "K3' PUT(L32, 0x3000, 0x200000003) -> H_SUCCESS (no TCE checks)");
expectEq(t.tce(3), 0x200000003n, "K3' T[3] = 0x200000003");
expectHcall(vm.hcall.putTce(0x12345678, 0n, 0x3n), H_TOO_HARD, 'qemu', "K3' PUT(0x12345678, 0, 0x3) -> exit");
expectErrno(vm.enableHcall(H_PUT_TCE_INDIRECT), 'EINVAL', "K3' ENABLE_HCALL(H_PUT_TCE_INDIRECT) -> EINVAL");
expectErrno(vm.enableHcall(H_STUFF_TCE), 'EINVAL', "K3' ENABLE_HCALL(H_STUFF_TCE) -> EINVAL");
vm.qemu.addTable({ kvm: t });
const e1 = vm.hcall.putTceIndirect(L32, 0x8000n, [0x10003n]);
expectHcall(e1, H_TOO_HARD, 'qemu', "K3' INDIRECT(L32, 0x8000, [0x10003]) -> exit");
const e2 = vm.hcall.stuffTce(L32, 0x8000n, 0n, 1);
expectHcall(e2, H_TOO_HARD, 'qemu', "K3' STUFF(L32, 0x8000, 0, 1) -> exit");
expectHcall(vm.qemu.handle(e1), H_SUCCESS, 'qemu', "K3' QEMU handles INDIRECT -> H_SUCCESS");
expectEq(t.tce(8), 0x10003n, "K3' T[8] = 0x10003");
expectHcall(vm.qemu.handle(e2), H_SUCCESS, 'qemu', "K3' QEMU handles STUFF -> H_SUCCESS");
expectEq(t.tce(8), 0n, "K3' T[8] = 0");
expectEq(qemu.lockedVm, 0, "K3' LV 0 throughout");
void G1;
void G2;
