// A 1 TiB guest: all of its RAM pre-registered (16,777,216 system pages of 64 KiB), a 1 TiB dynamic DMA
// window of 64 KiB TCEs at 1<<59, and every page of guest RAM mapped into it in one MAP_DMA — 16.7 million
// TCEs — then unmapped and torn down. Runs in a few seconds: TCE tables are sparse in the emulator, as
// multi-level tables are in the kernel.
//
// What it shows:
//   * v2 accounting for a huge guest: guest RAM once (1 TiB = 16,777,216 pages) plus ~256 MiB of TCE
//     table for the DDW, however much is mapped.
//   * How QEMU sizes the window's table levels, and why both kernels accept its choice (§4.10): 2 levels
//     of 64 KiB, so no physically contiguous 128 MiB allocation is needed.
//   * 4.2 refuses a window larger than host RAM (get_table_size returns 0 -> EINVAL), so this host has
//     2 TiB of RAM; mainline has no such rule.
//   * region.mapped counts every TCE: 1 + 16,777,216 after the big MAP.
//
// Spec: kernel-model.md §4.10 (TCE_CREATE: slot choice, levels, platform address-bit limit 55/60, host-RAM
// limit in 4.2), §5.2 (table size), §4.6.4 (v2 MAP), §8 (DDW), §10.1 steps 9 and 12 (QEMU's level guess).
//
// Run:  npm run -s dmawb -- run examples/huge-ddw-1tib.ts --kernel mainline
//       npm run -s dmawb -- run examples/huge-ddw-1tib.ts --kernel 4.2

const GUEST_RAM = 1n * TiB;
// Host RAM must be >= the window for 4.2 (and a host needs more than 1 TiB to back a 1 TiB guest anyway).
const host = createHost({ ramSize: 2n * TiB }); // 64 KiB pages; the profile follows --kernel
function byKernel<T>(v: { '4.2': T; '5.x'?: T; mainline: T }): T {
  return v[host.kernel] ?? v.mainline; // 5.x: mainline's accounting unless given
}
const PAGE = BigInt(host.pageSize);
const PAGE_SHIFT = Math.log2(host.pageSize);
const G = host.addPhb({ model: 'IODA2' }).addGroup();

// RLIMIT_MEMLOCK: guest RAM plus headroom for the tables (peak is 16,781,378 pages, asserted below).
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: GUEST_RAM + 1n * GiB });
const R = qemu.mmap({ size: GUEST_RAM, at: 0x100000000000n });
const RAM_PAGES = Number(GUEST_RAM / PAGE);
expectEq(RAM_PAGES, 16777216, 'guest RAM = 16,777,216 system pages of 64 KiB');

// ---- Container and registration (§10.1 steps 1–8, condensed) -------------------------------------------
const C = qemu.openContainer();
const g = qemu.openGroup(G);
expectOk(g.setContainer(C), 'GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(7) -> 0');
expectOk(C.registerMemory({ vaddr: R, size: GUEST_RAM }), 'REGISTER(R, 1 TiB) -> 0: 16,777,216 pages pinned');
expectEq(qemu.lockedVm, RAM_PAGES + byKernel({ '4.2': 128, mainline: 0 }), 'locked_vm = guest RAM (+128 for 4.2\'s default window)');
const region = () => qemu.regions()[0];
expectEq(region()?.entries, RAM_PAGES, 'region entries 16,777,216');
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0) -> 0');

// The guest's 1 GiB @ 4 KiB default window takes slot 0 at bus address 0. Without it, the next
// TCE_CREATE would land in slot 0 too — at bus address 0, not 1<<59 (lowest free slot, §4.10), and QEMU
// would refuse it ("Host doesn't support DMA window at …").
const w32 = C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 });
expectEq(w32.out?.startAddr, 0n, 'TCE_CREATE(12, 1 GiB, 1) -> slot 0 at 0');
expectEq(qemu.lockedVm, RAM_PAGES + 64, 'locked_vm = guest RAM + 64');

// ---- The 1 TiB window: how many levels? --------------------------------------------------------------------
// QEMU: entries = 1 TiB / 64 KiB = 2^24 TCEs = 2^27 bytes of table; it puts log2(host page) + 8 = 24 index
// bits in each level -> levels = ceil(27 / 24) = 2 (and would retry with more, up to (64 - 16) / 16 = 3).
const log2 = (x: bigint): number => x.toString(2).length - 1;
const entriesShift = log2(GUEST_RAM) - 16; // E = 24
const levels = Math.ceil((entriesShift + 3) / (PAGE_SHIFT + 8));
expectEq(levels, 2, 'QEMU\'s level guess for 1 TiB @ 64 KiB: 2');
// The kernel (§4.10, §5.2): each level indexes ceil(E / levels) = 12 bits, but a level is at least one
// system page: level_shift = max(12 + 3, 16) = 16 (64 KiB = 8192 TCEs per level page). The platform
// refuses a geometry whose index bits reach its limit: (16 - 3) * 2 + 16 = 42, below 55 (mainline) and
// 60 (4.2), so both kernels accept 2 levels: no different level count is forced here. (1 level would
// pass too — (27 - 3) + 16 = 40 — but needs one physically contiguous 128 MiB table, which is what QEMU's
// guess avoids; its retry loop exists for hosts where the allocation fails.)
const levelShift = Math.max(Math.ceil(entriesShift / levels) + 3, PAGE_SHIFT);
const addressBits = (levelShift - 3) * levels + 16;
expectEq(addressBits, 42, '(level_shift - 3) * levels + page_shift = 42');
expectEq(addressBits < byKernel({ '4.2': 60, mainline: 55 }), true, 'below the platform limit (60 in 4.2, 55 in mainline)');
// Table bytes: 2^24 TCEs * 8 = 128 MiB of leaf pages + one 64 KiB top level = 2049 pages. 4.2 charges
// the userspace view (8 bytes per TCE = 128 MiB = 2048 pages) on top: 4097; mainline doubles: 4098.
const ddwPages = byKernel({ '4.2': 2049 + 2048, mainline: 2 * 2049 });

const DDW = 1n << 59n;
const ddw = C.createWindow({ pageShift: 16, windowSize: GUEST_RAM, levels });
expectOk(ddw, 'TCE_CREATE(16, 1 TiB, 2) -> 0');
expectEq(ddw.out?.startAddr, DDW, 'start_addr 1<<59 (slot 1)');
expectEq(C.window(1)?.entries, 16777216, 'window 1: 16,777,216 entries');
expectEq(C.window(1)?.levels, 2, 'window 1: 2 levels');
expectEq(qemu.lockedVm, RAM_PAGES + 64 + ddwPages, 'locked_vm = guest RAM + 64 + 4097 (4.2) / 4098 (mainline)');
expectEq(qemu.lockedVm, byKernel({ '4.2': 16781377, mainline: 16781378 }), 'locked_vm 16,781,377 (4.2) / 16,781,378 (mainline)');
expectEq(qemu.lockedVm <= Number(qemu.memlock / PAGE), true, 'within RLIMIT_MEMLOCK');

// ---- Map all of guest RAM, 1:1, in one call ----------------------------------------------------------------
// (A Linux guest does this once after creating its DDW; QEMU would see one MAP_DMA per TCE, or none with
// KVM handling H_PUT_TCE_INDIRECT in the kernel.) No pinning, no locked_vm change: the pages were
// pinned and charged by REGISTER.
expectOk(C.mapDma({ vaddr: R, iova: DDW, size: GUEST_RAM, flags: RW }), 'MAP(R, 1<<59, 1 TiB, RW) -> 0');
const LAST = 16777215;
const MID = 8388608;
expectEq(C.tce(1, 0).value, qemu.hpa(R) | 3n, 'TCE1[0] = hpa(R) | 3');
expectEq(C.tce(1, 0).ua, R, 'ua1[0] = R');
expectEq(C.tce(1, MID).value, qemu.hpa(R + 512n * GiB) | 3n, 'TCE1[2^23] = hpa(R + 512 GiB) | 3');
expectEq(C.tce(1, LAST).value, qemu.hpa(R + GUEST_RAM - 0x10000n) | 3n, 'TCE1[2^24 - 1] = hpa of the last 64 KiB of guest RAM | 3');
expectEq(C.tce(1, LAST).ua, R + GUEST_RAM - 0x10000n, 'ua1[2^24 - 1] = R + 1 TiB - 64 KiB');
expectEq(region()?.mapped, 1 + 16777216, 'region mapped = 1 + 16,777,216');
expectEq(qemu.lockedVm, byKernel({ '4.2': 16781377, mainline: 16781378 }), 'locked_vm unchanged by MAP');

// ---- Tear-down -------------------------------------------------------------------------------------------------
expectOk(C.unmapDma({ iova: DDW, size: GUEST_RAM }), 'UNMAP(1<<59, 1 TiB) -> 0');
expectEq(C.tce(1, MID).value, 0n, 'TCE1[2^23] cleared');
expectEq(region()?.mapped, 1, 'region mapped 1');
expectOk(C.removeWindow({ startAddr: DDW }), 'REMOVE(1<<59) -> 0');
expectEq(qemu.lockedVm, RAM_PAGES + 64, 'DDW table returned');
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0) -> 0');
expectOk(C.unregisterMemory({ vaddr: R, size: GUEST_RAM }), 'UNREGISTER(R, 1 TiB) -> 0');
expectEq(qemu.lockedVm, 0, 'locked_vm 0');
expectOk(g.unsetContainer(), 'GROUP_UNSET_CONTAINER -> 0');
C.close();
g.close();
expectEq(qemu.lockedVm, 0, 'locked_vm 0 after close');
