// QEMU starting a 4 GiB sPAPR guest with one VFIO device on a POWER8/9 (IODA2) host: sPAPR TCE v2
// container, guest RAM pre-registered, the guest's 1 GiB 32-bit DMA window, then a 4 GiB dynamic DMA
// window (DDW) that the guest maps all of its RAM into — and the tear-down when QEMU exits.
//
// What it shows: every ioctl QEMU issues, in QEMU's order, with what the kernel answers and what
// locked_vm (in 64 KiB system pages) reads after each step. Where the kernel profiles differ, the
// script branches on host.kernel: 4.2 creates and charges the default 2 GiB window when the group is
// attached (SET_IOMMU), mainline defers it and QEMU's REMOVE(0) drops it before it ever exists; the
// IOMMU page sizes GET_INFO reports differ too. After REMOVE(0) the numbers meet: v2 charges guest RAM
// once plus the TCE tables, however many windows map that RAM.
//
// Spec: kernel-model.md §10.1 (QEMU's sequence, steps 1–13), §10.2 (locked_vm table), §4.2 (attach),
// §4.8 (REGISTER), §4.10/§4.11 (TCE_CREATE/REMOVE), §4.6.4 (v2 MAP), §5.2 (table sizes), §8 (DDW).
// The same sequence as a bare conformance case: C16 (mainline) and C17 (4.2).
//
// Run:  npm run -s dmawb -- run examples/qemu-v2-ddw.ts --kernel mainline
//       npm run -s dmawb -- run examples/qemu-v2-ddw.ts --kernel 4.2
// (createHost() names no kernel, so the run's --kernel / the workbench selector decides.)

// ---- The host ----------------------------------------------------------------------------------------
// 64 KiB system pages (ppc64 distributions), 64 GiB of host RAM, one IODA2 PHB whose PE is IOMMU group
// G. Default PHB properties: 32-bit window 0..2 GiB, IOMMU page sizes 4K|64K|16M (4.2) or
// 4K|64K|16M|256M (mainline, POWER8 without a device-tree list), 2 dynamic windows, 5 TCE levels.
const host = createHost();
const ML = host.kernel === 'mainline';
/** the value for this run's profile, where 4.2 and mainline differ */
function byKernel<T>(v: { '4.2': T; mainline: T }): T {
  return v[host.kernel];
}

const phb = host.addPhb({ model: 'IODA2' });
const G = phb.addGroup({ devices: ['0001:01:00.0'] });

// The QEMU process. A management layer (libvirt, KubeVirt…) raises RLIMIT_MEMLOCK before QEMU starts;
// v2 needs guest RAM plus a few MiB of TCE tables (examples/memlock-default-64k.ts derives the exact
// minimum, and shows what happens with the 64 KiB default).
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: 4n * GiB + 16n * MiB });

// Guest RAM: one anonymous 4 GiB mapping (guest physical 0 = host virtual R), not hugetlb-backed.
const GUEST_RAM = 4n * GiB;
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7fff00000000n });

// ---- 1. open("/dev/vfio/vfio"); VFIO_GET_API_VERSION must be VFIO_API_VERSION (0) -------------------
const C = qemu.openContainer();
expectRet(C.getApiVersion(), 0, '1. GET_API_VERSION -> 0');

// ---- 2. open("/dev/vfio/<group>"); VFIO_GROUP_GET_STATUS must say VIABLE (bit 0) ---------------------
const g = qemu.openGroup(G);
const status = g.getStatus();
expectOk(status, '2. GROUP_GET_STATUS -> 0');
expectEq(status.out?.flags, 1, '2. flags = VIABLE, not yet in a container (CONTAINER_SET = 2 unset)');

// ---- 3. Pick the IOMMU type (QEMU: vfio_get_iommu_type) --------------------------------------------
// QEMU asks for Type1v2, Type1, sPAPR v2, sPAPR v1 in that order; the first extension answered 1 wins.
// The sPAPR driver answers 0 for the x86 types and 1 for both of its own, so probing stops at 7.
const answers: number[] = [];
let iommuType = -1;
for (const type of [VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU, VFIO_SPAPR_TCE_IOMMU]) {
  const r = C.checkExtension(type);
  answers.push(r.ret);
  if (r.ret > 0) {
    iommuType = type;
    break;
  }
}
expectEq(answers.join(','), '0,0,1', '3. CHECK_EXTENSION(3, 1, 7) -> 0, 0, 1: probing stops at the first yes');
expectEq(iommuType, VFIO_SPAPR_TCE_v2_IOMMU, '3. QEMU picks VFIO_SPAPR_TCE_v2_IOMMU (7)');

// ---- 4. VFIO_GROUP_SET_CONTAINER ---------------------------------------------------------------------
// Mainline: the IOMMU core takes the PE from the host kernel here (bypass off, kernel window gone).
// 4.2: nothing happens to the PE yet; the sPAPR driver takes it at SET_IOMMU. Nothing is charged.
expectOk(g.setContainer(C), '4. GROUP_SET_CONTAINER -> 0');
expectEq(g.getStatus().out?.flags, 3, '4. GROUP_GET_STATUS now VIABLE | CONTAINER_SET');
expectEq(qemu.lockedVm, 0, '4. locked_vm 0');

// ---- 5. VFIO_SET_IOMMU(7) ------------------------------------------------------------------------------
// (Had this failed — a non-DDW platform under mainline — QEMU would retry with v1, type 2.)
// 4.2 attaches the group now and creates the default window at once: 2 GiB of 4 KiB TCEs = 2^19
// entries, a 4 MiB table (64 pages) plus a 4 MiB userspace view (it_userspace, 64 pages) = 128 pages.
// Mainline only marks the default window pending (def_window_pending); nothing exists, nothing charged.
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), '5. SET_IOMMU(VFIO_SPAPR_TCE_v2_IOMMU) -> 0');
expectEq(qemu.lockedVm, byKernel({ '4.2': 128, mainline: 0 }), '5. locked_vm 128 (4.2: default window table + view) / 0 (mainline)');
expectEq(C.defaultWindowPending, ML, '5. mainline: default window pending; 4.2: already created');
expectEq(C.window(0)?.size ?? 0n, ML ? 0n : 2n * GiB, '5. 4.2: window 0 is the 2 GiB default window');

// ---- 6. Pre-register guest RAM (QEMU's prereg memory listener) ----------------------------------------
// One REGISTER_MEMORY per RAM section; a plain guest has one. The kernel pins every 64 KiB page and
// charges 4 GiB / 64 KiB = 65536 pages to locked_vm, once, whatever is mapped later.
// A failure here is QEMU's "Memory registering failed" (see examples/memlock-default-64k.ts).
expectOk(C.registerMemory({ vaddr: R, size: GUEST_RAM }), '6. REGISTER_MEMORY(R, 4 GiB) -> 0');
expectEq(qemu.lockedVm, byKernel({ '4.2': 65664, mainline: 65536 }), '6. locked_vm 65664 (4.2) / 65536 (mainline)');
const region = () => qemu.regions()[0];
expectEq(region()?.entries, 65536, '6. one region of 65536 system pages');
expectEq(region()?.mapped, 1, '6. region mapped = 1 (the bias: no TCE points into it yet)');

// ---- 7. VFIO_IOMMU_SPAPR_TCE_GET_INFO(argsz 32) ---------------------------------------------------------
// v2 on an IODA2 PE reports DDW: which IOMMU page sizes windows can use, 2 windows, up to 5 levels.
const info = C.getInfo({ argsz: 32 });
expectOk(info, '7. GET_INFO -> 0');
expectEq(info.out?.flags, 1, '7. flags = VFIO_IOMMU_SPAPR_INFO_DDW');
expectEq(info.out?.dma32WindowStart, 0n, '7. dma32_window_start 0');
expectEq(info.out?.dma32WindowSize, 2n * GiB, '7. dma32_window_size 2 GiB (platform property, §4.3)');
expectEq(info.out?.ddw.pgsizes, byKernel({ '4.2': 0x1011000n, mainline: 0x11011000n }), '7. ddw.pgsizes 4K|64K|16M (4.2) / +256M (mainline POWER8 default)');
expectEq(info.out?.ddw.maxDynamicWindowsSupported, 2, '7. ddw.max_dynamic_windows_supported 2');
expectEq(info.out?.ddw.levels, 5, '7. ddw.levels 5');
const pgsizes = info.out?.ddw.pgsizes ?? 0n;

// ---- 8. REMOVE(dma32_window_start) = REMOVE(0) ----------------------------------------------------------
// QEMU removes the kernel's default window so that every window, the 32-bit one included, is created by
// its memory listener with the guest's geometry. 4.2 frees the real window (-128); mainline just clears
// the pending flag (a no-op that succeeds, §4.11 Q8). Both now read guest RAM only.
expectOk(C.removeWindow({ startAddr: info.out?.dma32WindowStart ?? 0n }), '8. TCE_REMOVE(0) -> 0');
expectEq(qemu.lockedVm, 65536, '8. locked_vm 65536 in both profiles');
expectEq(C.window(0), null, '8. no window 0');
expectEq(C.defaultWindowPending, false, '8. nothing pending');

// ---- 9. The guest's default DMA window: 1 GiB of 4 KiB TCEs at bus address 0 --------------------------
// QEMU (vfio_spapr_create_window): page shift = the largest size in ddw.pgsizes that is <= the guest's
// TCE size (4 KiB) and <= the page size backing guest RAM (64 KiB) -> 12. Levels: a guess of
// ceil(log2(entries * 8) / (log2(host page) + 8)), retried with one more level on failure up to
// (64 - page_shift) / log2(host page). 2^18 entries * 8 = 2^21 bytes -> ceil(21 / 24) = 1 level.
// The window must land where the guest expects it (0), else QEMU removes it again and fails with
// "Host doesn't support DMA window at …". (On mainline a failed try leaks its charge, §4.10 Q4.)
const HOST_PAGE_SHIFT = Math.log2(host.pageSize);
const log2 = (x: bigint): number => x.toString(2).length - 1;
/** QEMU's IOMMU page size: the largest in ddw.pgsizes that is <= the guest's TCE size and the RAM page */
function qemuPageShift(guestTceShift: number, ramPageShift: number): number {
  for (let s = Math.min(guestTceShift, ramPageShift); s >= 12; s--) if ((pgsizes >> BigInt(s)) & 1n) return s;
  return -1;
}
/** QEMU's TCE_CREATE with its level guess and retry loop */
function qemuCreateWindow(pageShift: number, windowSize: bigint) {
  const bitsTotal = log2((windowSize >> BigInt(pageShift)) * 8n); // log2 of the table bytes
  const bitsPerLevel = HOST_PAGE_SHIFT + 8;
  let levels = Math.ceil(bitsTotal / bitsPerLevel);
  const maxLevels = Math.floor((64 - pageShift) / HOST_PAGE_SHIFT);
  let r = C.createWindow({ pageShift, windowSize, levels });
  while (r.ret !== 0 && levels < maxLevels) r = C.createWindow({ pageShift, windowSize, levels: ++levels });
  return { r, levels };
}
const w32 = qemuCreateWindow(qemuPageShift(12, HOST_PAGE_SHIFT), 1n * GiB);
expectOk(w32.r, '9. TCE_CREATE(12, 1 GiB, 1) -> 0');
expectEq(w32.levels, 1, '9. QEMU asked for 1 level');
expectEq(w32.r.out?.startAddr, 0n, '9. start_addr 0 = the guest window address (lowest free slot: 0)');
// Table: 2^18 TCEs * 8 bytes = 2 MiB = 32 pages; 4.2 adds a 32-page view, mainline charges the table
// twice (hardware table + userspace copy): +64 either way.
expectEq(qemu.lockedVm, 65600, '9. locked_vm 65600 (+64: 1 GiB @ 4 KiB table)');

// ---- 10. Device fd; the guest boots ------------------------------------------------------------------------
const dev = g.openDevice('0001:01:00.0');

// ---- 11. Guest TCE hypercalls that are not handled in the host kernel ------------------------------------
// (With KVM the guest TCE table is attached to the group and H_PUT_TCE never leaves the kernel; the
// effect on TCEs and region counters is the same.) One 4 KiB TCE per call:
// H_PUT_TCE(ioba, gpa | TCE_READ | TCE_WRITE) -> MAP_DMA(vaddr = R + gpa, iova = ioba, 4 KiB, READ | WRITE),
// H_PUT_TCE(ioba, gpa | TCE_READ)             -> MAP_DMA(…, READ) (QEMU always sets READ; WRITE unless
//                                                 the TCE is read-only),
// H_PUT_TCE(ioba, 0)                          -> UNMAP_DMA(ioba, 4 KiB).
// v2 MAP translates through the pre-registered region: no pinning, no locked_vm change; the region's
// `mapped` counts the TCEs pointing into it. 4 KiB TCEs inside a 64 KiB page keep the in-page offset.
const rxBuf = 0x3f23000n; // guest physical addresses of two driver buffers
const txBuf = 0x5000000n + 0x7000n;
expectOk(C.mapDma({ vaddr: R + rxBuf, iova: 0x1000n, size: 0x1000n, flags: READ | WRITE }), '11. H_PUT_TCE(0x1000, rx|RW) -> MAP -> 0');
expectEq(C.tce(0, 1).value, qemu.hpa(R + rxBuf) | 3n, '11. TCE0[1] = hpa(R + 0x3f23000) | READ | WRITE');
expectEq(C.tce(0, 1).ua, R + rxBuf, '11. it_userspace[1] = R + 0x3f23000 (how UNMAP finds the region)');
expectOk(C.mapDma({ vaddr: R + txBuf, iova: 0x2000n, size: 0x1000n, flags: READ }), '11. H_PUT_TCE(0x2000, tx|R) -> MAP(READ) -> 0');
expectEq(C.tce(0, 2).perm, 1, '11. TCE0[2] is read-only for the device (to-device buffer)');
expectEq(region()?.mapped, 3, '11. region mapped 3 = bias + 2 TCEs');
expectOk(C.unmapDma({ iova: 0x1000n, size: 0x1000n }), '11. H_PUT_TCE(0x1000, 0) -> UNMAP -> 0');
expectEq(C.tce(0, 1).value, 0n, '11. TCE0[1] cleared');
expectEq(region()?.mapped, 2, '11. region mapped 2');
expectEq(qemu.lockedVm, 65600, '11. locked_vm unchanged by MAP/UNMAP (v2)');

// ---- 12. The guest asks for a dynamic DMA window --------------------------------------------------------
// RTAS ibm,query-pe-dma-window: QEMU answers 2 - active windows = 1 free, page sizes 4K|64K (PHB `pgsz`).
// ibm,create-pe-dma-window(page_shift 16, window_shift 32): a 4 GiB window of 64 KiB TCEs, expected at
// dma64_win_addr = 1<<59, which is exactly where PowerNV's second slot lives.
// 2^16 entries * 8 = 2^19 bytes -> ceil(19 / 24) = 1 level; table 512 KiB = 8 pages (+8 view / x2).
const DDW = 1n << 59n; // dma64_win_addr
const ddw = qemuCreateWindow(qemuPageShift(16, HOST_PAGE_SHIFT), GUEST_RAM);
expectOk(ddw.r, '12. TCE_CREATE(16, 4 GiB, 1) -> 0');
expectEq(ddw.r.out?.startAddr, DDW, '12. start_addr 1<<59 = 0x0800000000000000 (slot 1)');
expectEq(qemu.lockedVm, 65616, '12. locked_vm 65616 (+16) = guest RAM + 5 MiB of tables (§10.2)');

// A Linux guest then maps all of its RAM into the new window once, 1:1: iova = (1<<59) + gpa. QEMU
// issues one MAP_DMA per guest TCE (65536 of them, or none with KVM); one call covering all of guest
// RAM leaves the same TCEs, so this scenario uses that.
expectOk(C.mapDma({ vaddr: R, iova: DDW, size: GUEST_RAM, flags: RW }), '12. guest maps all RAM at 1<<59 -> 0');
expectEq(C.tce(1, 0).value, qemu.hpa(R) | 3n, '12. TCE1[0] = hpa(R) | 3');
expectEq(C.tce(1, 0x3f2).value, qemu.hpa(R + 0x3f20000n) | 3n, '12. TCE1[0x3f2] = hpa(R + 0x3f20000) | 3');
expectEq(C.tce(1, 65535).ua, R + GUEST_RAM - 0x10000n, '12. TCE1[65535] points at the last 64 KiB of guest RAM');
expectEq(region()?.mapped, 65538, '12. region mapped 65538 = bias + 1 (32-bit window) + 65536 (DDW)');
expectEq(qemu.lockedVm, 65616, '12. mapping 4 GiB charged nothing: v2 counts guest RAM once');

// ---- 13. Tear-down when QEMU exits -----------------------------------------------------------------------
// The device fd goes first. The memory listener then drops each IOMMU section: one big UNMAP of the
// section, then TCE_REMOVE of its window; after that the prereg listener UNREGISTERs guest RAM (after,
// not before: see examples/unregister-while-mapped.ts); then UNSET_CONTAINER, close(container),
// close(group). QEMU never calls VFIO_IOMMU_DISABLE (a v1-only ioctl anyway).
dev.close();
expectOk(C.unmapDma({ iova: DDW, size: GUEST_RAM }), '13. UNMAP(1<<59, 4 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: DDW }), '13. TCE_REMOVE(1<<59) -> 0');
expectEq(qemu.lockedVm, 65600, '13. locked_vm 65600 (DDW table returned)');
expectOk(C.unmapDma({ iova: 0n, size: 1n * GiB }), '13. UNMAP(0, 1 GiB) -> 0 (clears the live TCE0[2])');
expectEq(region()?.mapped, 1, '13. region mapped 1: no TCE left');
expectOk(C.removeWindow({ startAddr: 0n }), '13. TCE_REMOVE(0) -> 0');
expectEq(qemu.lockedVm, 65536, '13. locked_vm 65536 (32-bit window table returned)');
expectOk(C.unregisterMemory({ vaddr: R, size: GUEST_RAM }), '13. UNREGISTER_MEMORY(R, 4 GiB) -> 0');
expectEq(qemu.lockedVm, 0, '13. locked_vm 0: guest RAM unpinned and un-charged');
expectOk(g.unsetContainer(), '13. GROUP_UNSET_CONTAINER -> 0 (last group: driver released, PE back to the host)');
C.close();
g.close();
expectEq(qemu.lockedVm, 0, '13. locked_vm 0 after close(container), close(group)');
expectEq(qemu.regions().length, 0, '13. no region left');

