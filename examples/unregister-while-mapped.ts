// UNREGISTER_MEMORY of a pre-registered region while TCEs still point into it — e.g. a memory hot-unplug
// whose DIMM the guest still has a DMA mapping in, or a VMM that unregisters before it unmaps.
//
// What it shows:
//   * 4.2 refuses with EBUSY and keeps the region (conformance case C30). Unmap, then unregister: fine.
//   * mainline returns 0 but releases nothing: the region is "orphaned" — still pinned, still charged,
//     still usable by MAP, but in no container's list, so a second UNREGISTER says ENOENT and neither
//     container tear-down nor any ioctl will ever return its locked_vm (C31, Q3; derived from reading
//     the code: the EBUSY from the last reference drop is discarded). Unmapping afterwards is too late.
//   * The right order in both kernels: UNMAP every TCE that uses the region first (region.mapped falls
//     back to 1), then UNREGISTER — the region is unpinned and its pages are un-charged.
// How to tell before unregistering: region.mapped - 1 is the number of TCEs that still point into the
// region (the bias of 1 is the kernel's), and the explanation of a refused UNREGISTER names the windows.
//
// Spec: kernel-model.md §4.9 (UNREGISTER, 4.2 vs 5.1+/mainline), §1.4 (used/mapped), §4.8 (re-REGISTER
// adopts an orphan), §5.4, §5.6, Q3; conformance cases C30 (4.2) and C31 (mainline).
//
// Run:  npm run -s dmawb -- run examples/unregister-while-mapped.ts --kernel mainline
//       npm run -s dmawb -- run examples/unregister-while-mapped.ts --kernel 4.2

const host = createHost(); // 64 KiB system pages; the profile follows --kernel
const ML = host.kernel !== '4.2'; // 5.x unregisters (orphans) as mainline
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: 8n * GiB });

// Guest RAM R (4 GiB) and two hot-plugged 1 GiB DIMMs, D1 and D2: three separate anonymous mappings,
// each registered on its own, as QEMU's prereg listener does per RAM section.
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const D1 = qemu.mmap({ size: 1n * GiB, at: 0x7ffe00000000n });
const D2 = qemu.mmap({ size: 1n * GiB, at: 0x7ffd00000000n });
const DIMM = 1n * GiB; // 16384 pages
const regionAt = (ua: bigint) => qemu.regions().find((r) => r.ua === ua);

// ---- Set-up: QEMU's v2 sequence (see examples/qemu-v2-ddw.ts) -------------------------------------------
// After REMOVE(0) and the 1 GiB @ 4 KiB window both profiles read the same: 65536 + 64 = 65600.
const C = qemu.openContainer();
const g = qemu.openGroup(G);
expectOk(g.setContainer(C), 'GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(7) -> 0');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'REGISTER(R, 4 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0) -> 0');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'TCE_CREATE(12, 1 GiB, 1) -> 0, at 0');
expectEq(qemu.lockedVm, 65600, 'locked_vm 65600');

// DIMM D1 is plugged: registered (+16384), and the guest maps one of its pages for DMA.
expectOk(C.registerMemory({ vaddr: D1, size: DIMM }), 'REGISTER(D1, 1 GiB) -> 0');
expectEq(qemu.lockedVm, 81984, 'locked_vm 81984 (+16384)');
expectOk(C.mapDma({ vaddr: D1 + 0x10000n, iova: 0x10000n, size: 0x1000n, flags: RW }), 'guest maps a D1 page at IOVA 0x10000 -> 0');
expectEq(regionAt(D1)?.mapped, 2, 'D1 mapped 2: the bias + 1 TCE');

// ---- The mistake: unregister D1 while TCE0[16] still points into it ----------------------------------
const wrong = C.unregisterMemory({ vaddr: D1, size: DIMM });
if (!ML) {
  // 4.2: the last reference would go while mapped != 1 -> the reference is restored, EBUSY.
  expectErrno(wrong, 'EBUSY', '4.2: UNREGISTER(D1) while mapped -> EBUSY');
  expectEq(regionAt(D1)?.used, 1, '4.2: D1 still registered (used 1)');
  expectEq(qemu.lockedVm, 81984, '4.2: locked_vm unchanged');
} else {
  // mainline: the container's reference is dropped and D1 leaves its list; the release that should
  // follow is refused internally (mapped != 1) and that EBUSY is discarded: the call returns 0.
  expectOk(wrong, 'mainline: UNREGISTER(D1) while mapped -> 0 (but nothing is released)');
  expectEq(qemu.lockedVm, 81984, 'mainline: locked_vm unchanged: D1 still pinned and charged');
  expectEq(regionAt(D1)?.mapped, 2, 'mainline: D1 still exists, still mapped by the TCE (orphaned)');
  expectErrno(C.unregisterMemory({ vaddr: D1, size: DIMM }), 'ENOENT', 'mainline: a second UNREGISTER -> ENOENT (D1 is in no container\'s list)');
}
expectEq(C.tce(0, 16).ua, D1 + 0x10000n, 'the TCE is still live either way: the device can still DMA into D1');

// ---- Unmapping afterwards ----------------------------------------------------------------------------------
expectOk(C.unmapDma({ iova: 0x10000n, size: 0x1000n }), 'UNMAP(0x10000) -> 0');
expectEq(regionAt(D1)?.mapped, 1, 'D1 mapped 1: no TCE uses it now');
if (!ML) {
  expectOk(C.unregisterMemory({ vaddr: D1, size: DIMM }), '4.2: UNREGISTER(D1) now -> 0');
  expectEq(regionAt(D1), undefined, '4.2: D1 released');
  expectEq(qemu.lockedVm, 65600, '4.2: locked_vm 65600: D1\'s 16384 pages returned');
} else {
  // Too late: the orphan can be re-adopted by REGISTER (a new reference, no charge), but the
  // UNREGISTER that follows again leaves one reference nobody can drop.
  expectErrno(C.unregisterMemory({ vaddr: D1, size: DIMM }), 'ENOENT', 'mainline: UNREGISTER(D1) -> still ENOENT');
  expectOk(C.registerMemory({ vaddr: D1, size: DIMM }), 'mainline: REGISTER(D1) re-adopts the orphan -> 0');
  expectEq(qemu.lockedVm, 81984, 'mainline: no new charge');
  expectOk(C.unregisterMemory({ vaddr: D1, size: DIMM }), 'mainline: UNREGISTER(D1) -> 0');
  expectEq(regionAt(D1)?.used, 1, 'mainline: D1 keeps a reference that no ioctl can drop');
  expectEq(qemu.lockedVm, 81984, 'mainline: D1\'s 16384 pages stay charged and pinned');
}

// ---- The right order (both kernels): unmap first, then unregister -----------------------------------------
expectOk(C.registerMemory({ vaddr: D2, size: DIMM }), 'REGISTER(D2, 1 GiB) -> 0');
const before = qemu.lockedVm;
expectOk(C.mapDma({ vaddr: D2, iova: 0x20000n, size: 0x4000n, flags: RW }), 'guest maps 4 D2 pages at IOVA 0x20000 -> 0');
expectEq(regionAt(D2)?.mapped, 5, 'D2 mapped 5: 4 TCEs use it');
// Hot-unplug done right: every TCE into D2 goes first…
expectOk(C.unmapDma({ iova: 0x20000n, size: 0x4000n }), 'UNMAP(0x20000, 16 KiB) -> 0');
expectEq(regionAt(D2)?.mapped, 1, 'D2 mapped 1: safe to unregister');
// …then the registration.
expectOk(C.unregisterMemory({ vaddr: D2, size: DIMM }), 'UNREGISTER(D2) -> 0');
expectEq(regionAt(D2), undefined, 'D2 released');
expectEq(qemu.lockedVm, before - 16384, 'D2\'s 16384 pages un-charged');

// ---- Tear-down (QEMU's order) -------------------------------------------------------------------------------
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0) -> 0');
expectOk(C.unregisterMemory({ vaddr: R, size: 4n * GiB }), 'UNREGISTER(R) -> 0 (no TCE uses it)');
expectOk(g.unsetContainer(), 'GROUP_UNSET_CONTAINER -> 0');
C.close();
g.close();
// 4.2 ends at 0. Mainline keeps the orphan: 16384 pages pinned and charged until the process exits
// (and even then the mm teardown only warns about it).
expectEq(qemu.lockedVm, ML ? 16384 : 0, 'after tear-down: 0 (4.2) / 16384 (mainline: the orphaned D1)');
expectEq(qemu.regions().length, ML ? 1 : 0, 'regions left: none (4.2) / the orphan D1 (mainline)');
