// QEMU with `-overcommit mem-lock=on` (or libvirt's <memoryBacking><locked/>) and a VFIO device: guest
// RAM is counted twice in locked_vm. mlockall makes every page of guest RAM VM_LOCKED, and locked_vm
// counts VM_LOCKED pages; REGISTER_MEMORY charges the same pages again through account_locked_vm. A
// limit sized for "guest RAM + overhead" (libvirt's usual guest RAM + 1 GiB for VFIO guests) therefore
// fails at whichever comes second — here QEMU's "vfio: Memory registering failed" at start-up.
// The order does not matter (REGISTER after mlock tests LV + 65536; mlock after REGISTER tests 65536 + LV),
// and re-locking pages that are already locked is not counted again in the limit test from ≈v4.9 on
// (4.2 counts them again: Q-K10). The fix: a limit of twice guest RAM plus the tables, or no limit
// (libvirt sets RLIMIT_MEMLOCK to unlimited when <locked/> is used).
//
// mlockall is not part of the scenario API (scenario-api.md §2.1.6: its limit test uses total_vm); QEMU's
// mlockall(MCL_CURRENT | MCL_FUTURE) over guest RAM is written as mlock of guest RAM, which counts the same.
//
// Spec: kernel-model.md §13.10.3 (mlock and the double count), §13.11 K10 / K10', §4.8 (REGISTER),
// research memlock-sizing.
//
// Run:  npm run -s dmawb -- run examples/overcommit-mem-lock.ts --kernel mainline
//       npm run -s dmawb -- run examples/overcommit-mem-lock.ts --kernel 4.2

const host = createHost(); // 64 KiB pages
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const GUEST_RAM = 4n * GiB; // 65536 pages
const pages = (bytes: bigint): number => Number(bytes / BigInt(host.pageSize));

// ---- 1. The limit most setups give a VFIO guest: guest RAM + 1 GiB = 81920 pages -----------------------------
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: GUEST_RAM + 1n * GiB });
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7fff00000000n });

// -overcommit mem-lock=on: os_mlock() locks all memory before the machine is built.
expectOk(qemu.mlock({ addr: R, size: GUEST_RAM }), '1. mlock(guest RAM) -> 0');
expectEq(qemu.lockedVm, 65536, '1. locked_vm 65536: every page of guest RAM is VM_LOCKED');

// The VM and the KVM table of the PHB's 32-bit window (33 pages where KVM charges them; 0 on 4.2).
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: GUEST_RAM, userspaceAddr: R }), '1. memslot 0');
const k = vm.checkExtension(KVM_CAP_SPAPR_TCE_64).ret
  ? vm.createSpaprTce64({ liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n })
  : vm.createSpaprTce({ liobn: 0x80000000, windowSize: 1n * GiB });
expectOk(k, '1. KVM TCE table for the 32-bit window -> 0');
const kvmPages = k.out!.table.chargedPages;

// VFIO v2: SET_IOMMU (4.2 charges its default window now, 128 pages), then REGISTER of guest RAM.
const C = qemu.openContainer();
const g = qemu.openGroup(G);
expectOk(g.setContainer(C), '1. GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), '1. SET_IOMMU(7) -> 0');
const beforeRegister = qemu.lockedVm; // 65536 + KVM table + (4.2) default window
const reg = C.registerMemory({ vaddr: R, size: GUEST_RAM });
expectErrno(reg, 'ENOMEM', '1. REGISTER(guest RAM) -> ENOMEM: "vfio: Memory registering failed"');
expectEq(beforeRegister + 65536 > pages(qemu.memlock), true, '1. because locked_vm + 65536 > the 81920-page limit');
expectEq(qemu.lockedVm, beforeRegister, '1. nothing charged by the refused REGISTER');

// ---- 2. Enough: twice guest RAM plus 1 GiB of headroom (what libvirt's <locked/> makes unlimited) ------------
qemu.memlock = 2n * GUEST_RAM + 1n * GiB; // 147456 pages
expectOk(C.registerMemory({ vaddr: R, size: GUEST_RAM }), '2. REGISTER(guest RAM) -> 0');
expectEq(qemu.lockedVm, beforeRegister + 65536, '2. locked_vm = mlocked 65536 + registered 65536 + tables');
expectOk(C.removeWindow({ startAddr: 0n }), '2. REMOVE(0) -> 0');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), '2. TCE_CREATE(12, 1 GiB, 1) -> 0');
expectEq(qemu.lockedVm, 131072 + kvmPages + 64, '2. locked_vm 131169 (5.x, mainline) / 131136 (4.2): guest RAM twice + tables');
const peak = qemu.lockedVm;

// ---- 3. Without the double count: munlock (QEMU without mem-lock=on never locks) -----------------------------
expectOk(qemu.munlock({ addr: R, size: GUEST_RAM }), '3. munlock(guest RAM) -> 0');
expectEq(qemu.lockedVm, peak - 65536, '3. locked_vm 65633 / 65600: guest RAM counted once');
// Locking again after REGISTER meets the same test the other way round: 65536 + locked_vm <= the limit.
expectOk(qemu.mlock({ addr: R, size: GUEST_RAM }), '3. mlock(guest RAM) again -> 0 (the limit allows it)');
expectEq(qemu.lockedVm, peak, '3. locked_vm back at the double count');

// ---- Tear-down ----------------------------------------------------------------------------------------------
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0) -> 0');
expectOk(C.unregisterMemory({ vaddr: R, size: GUEST_RAM }), 'UNREGISTER(guest RAM) -> 0');
k.out!.table.close();
expectEq(qemu.lockedVm, 65536, 'what is left is the mlock: 65536 pages');
qemu.munmap(R, GUEST_RAM);
expectEq(qemu.lockedVm, 0, 'munmap of locked pages takes them out of locked_vm');
