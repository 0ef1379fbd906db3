// K1' [4.2] — KVM TCE tables on 4.2 (kernel-model.md §13.11 K1', §13.4.2): no _64 ioctl (ENOTTY), no
// multi-TCE, no VFIO link; the legacy ioctl tests the duplicate LIOBN first, validates nothing (window 0
// is a table where every ioba is out of range) and charges nothing, even at a 64 KiB limit.

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: gpa 0 -> R');
const L32 = 0x80000000;
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE), 1, "K1' CHECK_EXTENSION(63) -> 1");
expectRet(vm.checkExtension(KVM_CAP_SPAPR_MULTITCE), 0, "K1' CHECK_EXTENSION(94) -> 0");
expectRet(vm.checkExtension(KVM_CAP_PPC_ENABLE_HCALL), 1, "K1' CHECK_EXTENSION(104) -> 1");
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE_64), 0, "K1' CHECK_EXTENSION(125) -> 0");
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE_VFIO), 0, "K1' CHECK_EXTENSION(142) -> 0");
expectErrno(vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }), 'ENOTTY', "K1' _64 -> ENOTTY");
const a = vm.createSpaprTce({ liobn: L32, windowSize: 1n * GiB });
expectOk(a, "K1' legacy(L32, 1 GiB) -> 0");
expectEq(a.out?.table.chargedPages, 0, "K1' charge 0");
expectEq(qemu.lockedVm, 0, "K1' LV 0");
expectErrno(vm.createSpaprTce({ liobn: L32, windowSize: 1n * GiB }), 'EBUSY', "K1' same LIOBN -> EBUSY");
const z = vm.createSpaprTce({ liobn: 0x71000003, windowSize: 0n });
expectOk(z, "K1' legacy(0x71000003, window 0) -> 0");
expectHcall(vm.hcall.putTce(0x71000003, 0n, 0x3n), H_PARAMETER, 'kernel', "K1' PUT(0x71000003, 0, 0x3) -> H_PARAMETER kernel");
qemu.memlock = 64n * KiB;
const b = vm.createSpaprTce({ liobn: 0x80000001, windowSize: 2n * GiB });
expectOk(b, "K1' memlock 64 KiB: legacy(0x80000001, 2 GiB) -> 0");
expectEq(qemu.lockedVm, 0, "K1' LV 0");
a.out?.table.close();
z.out?.table.close();
b.out?.table.close();
expectEq(qemu.lockedVm, 0, "K1' closing all -> LV 0");
void G1;
void G2;
