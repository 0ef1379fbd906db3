// K1 [mainline] — KVM TCE table creation: checks and charge (kernel-model.md §13.11 K1).
// CHECK_EXTENSION answers; _64(L32) charges kvmppc_stt_pages = 33 to the VM's mm; a duplicate LIOBN is
// EBUSY; page_shift, size, flags and offset+size checks are EINVAL; the legacy ioctl converts a byte
// window into 4 KiB TCEs (window 0x800 → size 0 → EINVAL); closing each table fd refunds its charge.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
phb.addGroup();
phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
expectEq(qemu.lockedVm, 0, 'K1 LV 0 after KVM_CREATE_VM');

expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE), 1, 'K1 CHECK_EXTENSION(63) -> 1');
expectRet(vm.checkExtension(KVM_CAP_SPAPR_MULTITCE), 1, 'K1 CHECK_EXTENSION(94) -> 1');
expectRet(vm.checkExtension(KVM_CAP_PPC_ENABLE_HCALL), 1, 'K1 CHECK_EXTENSION(104) -> 1');
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE_64), 1, 'K1 CHECK_EXTENSION(125) -> 1');
expectRet(vm.checkExtension(KVM_CAP_SPAPR_TCE_VFIO), 1, 'K1 CHECK_EXTENSION(142) -> 1');

const l32 = vm.createSpaprTce64({ liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n });
expectOk(l32, 'K1 _64(L32, 12, 0, 262144) -> 0');
expectEq(l32.out?.table.chargedPages, 33, 'K1 L32 charge 33');
expectEq(qemu.lockedVm, 33, 'K1 LV 33');
expectErrno(vm.createSpaprTce64({ liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n }), 'EBUSY', 'K1 same LIOBN again -> EBUSY');
expectEq(qemu.lockedVm, 33, 'K1 LV 33 after EBUSY');

expectErrno(vm.createSpaprTce64({ liobn: 0x1000, pageShift: 11, offset: 0n, size: 1n }), 'EINVAL', 'K1 page_shift 11 -> EINVAL');
expectErrno(vm.createSpaprTce64({ liobn: 0x1000, pageShift: 35, offset: 0n, size: 1n }), 'EINVAL', 'K1 page_shift 35 -> EINVAL');
expectErrno(vm.createSpaprTce64({ liobn: 0x1000, pageShift: 12, offset: 0n, size: 0n }), 'EINVAL', 'K1 size 0 -> EINVAL');
expectErrno(vm.createSpaprTce64({ liobn: 0x1000, pageShift: 12, offset: 0n, size: 1n, flags: 1 }), 'EINVAL', 'K1 flags 1 -> EINVAL');
expectErrno(vm.createSpaprTce64({ liobn: 0x1000, pageShift: 12, offset: (1n << 52n) - 1n, size: 1n }), 'EINVAL', 'K1 offset 2^52-1 + 1 > 2^52-1 -> EINVAL');
expectEq(qemu.lockedVm, 33, 'K1 LV 33 after the EINVALs');
const t1000 = vm.createSpaprTce64({ liobn: 0x1000, pageShift: 12, offset: (1n << 52n) - 2n, size: 1n });
expectOk(t1000, 'K1 _64(0x1000, 12, 2^52-2, 1) -> 0');
expectEq(t1000.out?.table.chargedPages, 2, 'K1 1-TCE table charge 2');
expectEq(qemu.lockedVm, 35, 'K1 LV 35');

const l64 = vm.createSpaprTce64({ liobn: 0x80000001, pageShift: 16, offset: 1n << 43n, size: 65536n });
expectOk(l64, 'K1 _64(L64, 16, 1<<43, 65536) -> 0');
expectEq(l64.out?.table.chargedPages, 9, 'K1 L64 charge 9');
expectEq(qemu.lockedVm, 44, 'K1 LV 44');

const vio = vm.createSpaprTce({ liobn: 0x71000002, windowSize: 256n * MiB });
expectOk(vio, 'K1 legacy(0x71000002, 256 MiB) -> 0');
expectEq(vio.out?.table.pageShift, 12, 'K1 legacy page shift 12');
expectEq(vio.out?.table.offset, 0n, 'K1 legacy offset 0');
expectEq(vio.out?.table.size, 65536n, 'K1 legacy size 65536');
expectEq(vio.out?.table.chargedPages, 9, 'K1 legacy charge 9');
expectEq(qemu.lockedVm, 53, 'K1 LV 53');
expectErrno(vm.createSpaprTce({ liobn: 0x71000003, windowSize: 0x800n }), 'EINVAL', 'K1 legacy window 0x800 -> EINVAL (size 0)');
expectEq(qemu.lockedVm, 53, 'K1 LV 53 after the legacy EINVAL');

l32.out?.table.close();
expectEq(qemu.lockedVm, 20, 'K1 close L32 -> LV 20');
t1000.out?.table.close();
expectEq(qemu.lockedVm, 18, 'K1 close 0x1000 -> LV 18');
l64.out?.table.close();
expectEq(qemu.lockedVm, 9, 'K1 close L64 -> LV 9');
vio.out?.table.close();
expectEq(qemu.lockedVm, 0, 'K1 close 0x71000002 -> LV 0');
void R;
