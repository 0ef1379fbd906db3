// UNREGISTER of guest memory that only KVM has mapped: a hot-unplugged DIMM whose page the guest still
// has in a TCE. With in-kernel acceleration (KVM_CAP_SPAPR_TCE_VFIO) the guest's H_PUT_TCE writes the
// hardware TCE through the pre-registered region — `mapped` goes up — and no VFIO ioctl appears in QEMU's
// log. QEMU's later UNREGISTER_MEMORY of the DIMM meets a region it never mapped itself, yet in use:
//   * mainline: 0, and the region is orphaned — still pinned, still charged, in no container's list;
//     a second UNREGISTER says ENOENT (§4.9, Q3);
//   * where the kernel refuses an UNREGISTER while mapped (4.2, whose TCEs go through QEMU's MAP_DMA
//     since it has no acceleration): EBUSY, the region stays.
// The script reads the outcome from the result and checks the state that goes with it, so it runs in
// every profile. The right order: the guest (or QEMU, unmapping the window) clears the TCE first.
//
// Spec: kernel-model.md §13.8 ("UNREGISTER outcomes see in-kernel mappings"), §13.8.1 (H_PUT_TCE through
// a linked table), §4.9 (UNREGISTER per era), Q3; see examples/unregister-while-mapped.ts for VFIO only.
//
// Run:  npm run -s dmawb -- run examples/unregister-kvm-mappings.ts --kernel mainline
//       npm run -s dmawb -- run examples/unregister-kvm-mappings.ts --kernel 4.2

const host = createHost();
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: 8n * GiB });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n }); // guest RAM, guest physical 0
const D1 = qemu.mmap({ size: 1n * GiB, at: 0x7ffe00000000n }); // a hot-plugged DIMM, guest physical 4 GiB
const regionAt = (ua: bigint) => qemu.regions().find((r) => r.ua === ua);

// ---- QEMU/KVM set-up (see examples/qemu-v2-ddw.ts) ----------------------------------------------------------
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: guest RAM');
const ACCEL = vm.checkExtension(KVM_CAP_SPAPR_TCE_VFIO).ret === 1;
const L32 = 0x80000000;
const C = qemu.openContainer();
const g = qemu.openGroup(G);
expectOk(g.setContainer(C), 'GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(7) -> 0');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'REGISTER(R, 4 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0) -> 0');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'TCE_CREATE(12, 1 GiB, 1) -> 0');
if (ACCEL) {
  const t = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }).out!.table;
  expectOk(vm.attachVfioGroup(g, t), 'kvm-vfio device, GROUP_ADD, SET_SPAPR_TCE(G, L32) -> 0');
  vm.qemu.addTable({ kvm: t, container: C });
} else {
  vm.qemu.addTable({ liobn: L32, pageShift: 12, entries: 262144, container: C }); // no link: QEMU's table
}
const base = qemu.lockedVm; // 65600, plus the KVM table's 33 pages where there is one

// ---- The DIMM is plugged: a memslot and a registration (+16384 pages) ---------------------------------------
expectOk(vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 4n * GiB, memorySize: 1n * GiB, userspaceAddr: D1 }), 'memslot 1: the DIMM at guest 4 GiB');
expectOk(C.registerMemory({ vaddr: D1, size: 1n * GiB }), 'REGISTER(D1, 1 GiB) -> 0');
expectEq(qemu.lockedVm, base + 16384, 'locked_vm + 16384');

// ---- The guest maps a DIMM page for DMA: H_PUT_TCE(L32, 0x10000, 4 GiB + 0x20000 | R | W) ----------------
const put = vm.hcall.putTce(L32, 0x10000n, (4n * GiB + 0x20000n) | 3n);
expectEq(put.handledBy, ACCEL ? 'kernel' : 'qemu', ACCEL ? 'KVM answers it: no VFIO ioctl in the log' : 'an exit: QEMU maps it with MAP_DMA');
const done = vm.qemu.handle(put);
expectHcall(done, H_SUCCESS, undefined, 'the guest gets H_SUCCESS');
expectEq(done.vfio?.length ?? 0, ACCEL ? 0 : 1, ACCEL ? 'QEMU issued no VFIO call' : 'QEMU issued one MAP_DMA');
expectEq(C.tce(0, 16).value, qemu.hpa(D1 + 0x20000n) | 3n, 'hardware TCE0[16] = hpa(D1 + 0x20000) | 3');
expectEq(regionAt(D1)?.mapped, 2, 'D1 mapped 2: the bias + the TCE the guest made');

// ---- QEMU unplugs the DIMM: UNREGISTER while the guest's TCE still points into it ---------------------------
const wrong = C.unregisterMemory({ vaddr: D1, size: 1n * GiB });
if (wrong.ret === 0) {
  // orphaned: the call "succeeded" but nothing was released
  expectEq(regionAt(D1)?.mapped, 2, 'orphaned: D1 still there, mapped 2');
  expectEq(qemu.lockedVm, base + 16384, 'orphaned: its 16384 pages stay charged');
  expectErrno(C.unregisterMemory({ vaddr: D1, size: 1n * GiB }), 'ENOENT', 'a second UNREGISTER(D1) -> ENOENT: in no container list');
} else {
  expectErrno(wrong, 'EBUSY', 'UNREGISTER(D1) while mapped -> EBUSY');
  expectEq(regionAt(D1)?.used, 1, 'D1 still registered');
  expectEq(qemu.lockedVm, base + 16384, 'locked_vm unchanged');
  expectEq(qemu.regions().length, 2, 'R and D1 registered');
}

// ---- The guest clears its TCE afterwards -------------------------------------------------------------------
expectHcall(vm.qemu.handle(vm.hcall.putTce(L32, 0x10000n, 0n)), H_SUCCESS, undefined, 'the guest clears its TCE -> H_SUCCESS');
expectEq(C.tce(0, 16).value, 0n, 'TCE0[16] cleared');
expectEq(regionAt(D1)?.mapped, 1, 'D1 mapped 1: nothing points into it any more');
if (wrong.ret === 0) {
  // too late: REGISTER adopts the orphan (a new reference, no charge), but the UNREGISTER that follows
  // again leaves one reference no ioctl can drop (§4.9, Q3)
  expectOk(C.registerMemory({ vaddr: D1, size: 1n * GiB }), 'REGISTER(D1) adopts the orphan -> 0');
  expectOk(C.unregisterMemory({ vaddr: D1, size: 1n * GiB }), 'UNREGISTER(D1) -> 0');
  expectEq(regionAt(D1)?.used, 1, 'D1 keeps a reference nobody can drop');
  expectEq(qemu.lockedVm, base + 16384, "D1's 16384 pages stay pinned and charged until the process exits");
} else {
  expectOk(C.unregisterMemory({ vaddr: D1, size: 1n * GiB }), 'UNREGISTER(D1) now -> 0');
  expectEq(regionAt(D1), undefined, 'D1 released');
  expectEq(qemu.lockedVm, base, "locked_vm back: D1's 16384 pages returned");
}

// ---- The right order with a second DIMM: the guest's TCE goes first, then the registration -----------------
const D2 = qemu.mmap({ size: 1n * GiB, at: 0x7ffd00000000n });
expectOk(vm.setUserMemoryRegion({ slot: 2, guestPhysAddr: 5n * GiB, memorySize: 1n * GiB, userspaceAddr: D2 }), 'memslot 2: DIMM D2 at guest 5 GiB');
expectOk(C.registerMemory({ vaddr: D2, size: 1n * GiB }), 'REGISTER(D2, 1 GiB) -> 0');
const before = qemu.lockedVm;
expectHcall(vm.qemu.handle(vm.hcall.putTce(L32, 0x20000n, (5n * GiB) | 3n)), H_SUCCESS, undefined, 'the guest maps a D2 page');
expectEq(regionAt(D2)?.mapped, 2, 'D2 mapped 2');
expectHcall(vm.qemu.handle(vm.hcall.putTce(L32, 0x20000n, 0n)), H_SUCCESS, undefined, 'unplug done right: the TCE is cleared first');
expectEq(regionAt(D2)?.mapped, 1, 'D2 mapped 1: safe to unregister');
expectOk(C.unregisterMemory({ vaddr: D2, size: 1n * GiB }), 'UNREGISTER(D2) -> 0');
expectEq(regionAt(D2), undefined, 'D2 released');
expectEq(qemu.lockedVm, before - 16384, "D2's 16384 pages un-charged");
