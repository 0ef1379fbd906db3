// K2 [mainline] — the limit and the order of checks (kernel-model.md §13.11 K2, §13.4.1, Q-K2).
// memlock 40 pages: L32 (33) fits, L64 (+9 = 42) does not; a duplicate L32 reports ENOMEM, not EBUSY,
// because the charge precedes the duplicate test; with 16 GiB the duplicate is EBUSY; at 42 pages L64
// fits exactly (equality allowed); the legacy 256 MiB table needs CAP_IPC_LOCK to go above the limit.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
phb.addGroup();
phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 40n * 65536n, capIpcLock: false });
const vm = qemu.openKvm();
const L32 = { liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n };
const L64 = { liobn: 0x80000001, pageShift: 16, offset: 1n << 43n, size: 65536n };

const a = vm.createSpaprTce64(L32);
expectOk(a, 'K2 _64(L32) -> 0 at memlock 40 pages');
expectEq(qemu.lockedVm, 33, 'K2 LV 33');
expectErrno(vm.createSpaprTce64(L64), 'ENOMEM', 'K2 _64(L64) -> ENOMEM (33 + 9 > 40)');
expectEq(qemu.lockedVm, 33, 'K2 LV 33 after ENOMEM');
expectErrno(vm.createSpaprTce64(L32), 'ENOMEM', 'K2 _64(L32 again) -> ENOMEM, not EBUSY (charge before the duplicate test)');
expectEq(qemu.lockedVm, 33, 'K2 LV 33 after the duplicate ENOMEM');
qemu.memlock = 16n * GiB;
expectErrno(vm.createSpaprTce64(L32), 'EBUSY', 'K2 memlock 16 GiB: _64(L32 again) -> EBUSY');
expectEq(qemu.lockedVm, 33, 'K2 LV 33 after EBUSY');
qemu.memlock = 42n * 65536n;
const b = vm.createSpaprTce64(L64);
expectOk(b, 'K2 memlock 42 pages: _64(L64) -> 0 (equality allowed)');
expectEq(qemu.lockedVm, 42, 'K2 LV 42');
expectErrno(vm.createSpaprTce({ liobn: 0x71000002, windowSize: 256n * MiB }), 'ENOMEM', 'K2 legacy 256 MiB -> ENOMEM (51 > 42)');
expectEq(qemu.lockedVm, 42, 'K2 LV 42 after the legacy ENOMEM');
qemu.capIpcLock = true;
const c = vm.createSpaprTce({ liobn: 0x71000002, windowSize: 256n * MiB });
expectOk(c, 'K2 with CAP_IPC_LOCK: legacy 256 MiB -> 0');
expectEq(qemu.lockedVm, 51, 'K2 LV 51 (above the limit)');
a.out?.table.close();
b.out?.table.close();
c.out?.table.close();
expectEq(qemu.lockedVm, 0, 'K2 close all -> LV 0');
