// The 4 GiB guest of examples/qemu-v2-ddw.ts, this time on the v1 backend (VFIO_SPAPR_TCE_IOMMU), on the
// same IODA2 host: what a VMM that only drives v1 gets — QEMU releases from before v2 support, or QEMU
// falling back after SET_IOMMU(7) failed (§10.1 step 5; on this host v2 would work, so this shows what
// v1 costs in comparison).
//
// What it shows:
//   * ENABLE charges the whole 2 GiB 32-bit window (32768 pages) per container, whatever the guest's size
//     and whatever is mapped; the default window's TCE table comes on top (4.2: 64 pages at SET_IOMMU;
//     mainline: 128 pages at the first MAP).
//   * GET_INFO never reports DDW on v1, even on a DDW-capable PE: the guest gets one 4 KiB-page window
//     inside [0, 2 GiB) and nothing at 1<<59.
//   * Every v1 TCE really pins its page (16 pins for 16 4 KiB TCEs in one 64 KiB page), yet pins are never
//     counted in locked_vm: a guest that fills its window pins 1 GiB while locked_vm still reads 2 GiB.
//   * QEMU never calls VFIO_IOMMU_DISABLE; the container release at tear-down returns the charge.
//
// Spec: kernel-model.md §4.4/§4.5 (ENABLE/DISABLE), §4.3 (GET_INFO), §4.6.3 (v1 build and pins),
// §5.3 (v1 arithmetic), §10.1–§10.2 (QEMU, the v1 row), §3 item 5 / §5.6 (release), C05/C06, C55.
//
// Run:  npm run -s dmawb -- run examples/qemu-v1.ts --kernel mainline
//       npm run -s dmawb -- run examples/qemu-v1.ts --kernel 4.2

const host = createHost(); // 64 KiB pages, IODA2; the profile follows --kernel
function byKernel<T>(v: { '4.2': T; '5.x'?: T; mainline: T }): T {
  return v[host.kernel] ?? v.mainline; // 5.x: mainline's accounting unless given
}
const G = host.addPhb({ model: 'IODA2' }).addGroup({ devices: ['0001:01:00.0'] });

// v1 needs 2 GiB of RLIMIT_MEMLOCK per container plus the default window's table (4 or 8 MiB), and
// nothing that depends on guest RAM. 2 GiB + 16 MiB is enough in both profiles.
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: 2n * GiB + 16n * MiB });
const GUEST_RAM = 4n * GiB;
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7fff00000000n });

// ---- Container, group, type ---------------------------------------------------------------------------
const C = qemu.openContainer();
expectRet(C.getApiVersion(), 0, 'GET_API_VERSION -> 0');
const g = qemu.openGroup(G);
expectEq(g.getStatus().out?.flags, 1, 'GROUP_GET_STATUS: VIABLE');
expectRet(C.checkExtension(VFIO_SPAPR_TCE_IOMMU), 1, 'CHECK_EXTENSION(VFIO_SPAPR_TCE_IOMMU) -> 1');
expectOk(g.setContainer(C), 'GROUP_SET_CONTAINER -> 0');

// SET_IOMMU(2). 4.2 attaches now and creates the default 2 GiB @ 4 KiB window: a 4 MiB table = 64
// pages (v1 gets no separate userspace view). Mainline only marks the window pending.
expectOk(C.setIommu(VFIO_SPAPR_TCE_IOMMU), 'SET_IOMMU(VFIO_SPAPR_TCE_IOMMU) -> 0');
expectEq(qemu.lockedVm, byKernel({ '4.2': 64, mainline: 0 }), 'locked_vm 64 (4.2: default table) / 0 (mainline: pending)');

// ---- VFIO_IOMMU_ENABLE --------------------------------------------------------------------------------
// QEMU enables a v1 container right after SET_IOMMU. The charge is tce32_size >> PAGE_SHIFT =
// 2 GiB / 64 KiB = 32768 pages: the worst case of the whole window, for a 4 GiB guest or a 256 MiB one,
// and again for every further container (four groups in four containers = 8 GiB, §5.3).
expectOk(C.enable(), 'ENABLE -> 0');
expectEq(qemu.lockedVm, byKernel({ '4.2': 32832, mainline: 32768 }), 'locked_vm 32832 (4.2) / 32768 (mainline): +32768 = 2 GiB');

// ---- GET_INFO -------------------------------------------------------------------------------------------
// No DDW on v1 (flags 0, ddw zeroed): QEMU records one host window [0, 2 GiB) of 4 KiB pages and
// requires every guest DMA window to fit inside it. There is no REMOVE(0) and no TCE_CREATE on v1:
// the guest's 1 GiB default window at 0 is served by the host's default window.
const info = C.getInfo({ argsz: 32 });
expectOk(info, 'GET_INFO -> 0');
expectEq(info.out?.flags, 0, 'GET_INFO flags 0: v1 never reports DDW (§4.3)');
expectEq(info.out?.dma32WindowSize, 2n * GiB, 'GET_INFO dma32 window 0 .. 2 GiB');
expectEq(info.out?.ddw.maxDynamicWindowsSupported, 0, 'GET_INFO ddw zeroed');
// (Not something QEMU does: the window ioctls do not exist on v1.)
expectErrno(C.createWindow({ pageShift: 16, windowSize: GUEST_RAM, levels: 1 }), 'ENOTTY', 'TCE_CREATE on v1 -> ENOTTY (v2-only ioctl)');

const dev = g.openDevice('0001:01:00.0');

// ---- Guest H_PUT_TCE -> MAP_DMA / UNMAP_DMA of single 4 KiB TCEs ------------------------------------------
// v1 MAP pins the page behind each TCE (get_user_pages, always asking for write access), keeps the
// in-page offset of 4 KiB TCEs inside 64 KiB pages, and never changes locked_vm.
// Mainline creates the pending default window now, at the first MAP: +128 pages (2 x 4 MiB).
const rx = 0x3f23000n; // guest physical addresses of driver buffers
const tx = 0x5007000n;
expectOk(C.mapDma({ vaddr: R + rx, iova: 0x1000n, size: 0x1000n, flags: RW }), 'H_PUT_TCE(0x1000, rx|RW) -> MAP -> 0');
expectEq(C.tce(0, 1).value, qemu.hpa(R + rx) | 3n, 'TCE0[1] = hpa(R + 0x3f23000) | READ | WRITE');
expectEq(qemu.pins(R + rx), 1, 'the 64 KiB page behind rx carries 1 pin');
expectEq(qemu.lockedVm, byKernel({ '4.2': 32832, mainline: 32896 }), 'locked_vm 32832 (4.2) / 32896 (mainline: default window created by this MAP)');
expectOk(C.mapDma({ vaddr: R + tx, iova: 0x2000n, size: 0x1000n, flags: READ }), 'H_PUT_TCE(0x2000, tx|R) -> MAP(READ) -> 0');
expectEq(C.tce(0, 2).perm, 1, 'TCE0[2] read-only for the device');
expectEq(qemu.pins(R + tx), 1, 'a read-only TCE pins too (the pin always requests write access, Q6)');
expectOk(C.unmapDma({ iova: 0x1000n, size: 0x1000n }), 'H_PUT_TCE(0x1000, 0) -> UNMAP -> 0');
expectEq(qemu.pins(R + rx), 0, 'UNMAP dropped the pin on rx\'s page');

// A 64 KiB guest buffer mapped as 16 4 KiB TCEs: 16 pins on one host page.
const buf = 0x8000000n;
expectOk(C.mapDma({ vaddr: R + buf, iova: 0x10000n, size: 0x10000n, flags: RW }), 'MAP 64 KiB buffer as 16 TCEs at 0x10000 -> 0');
expectEq(qemu.pins(R + buf), 16, '16 pins on one 64 KiB page');

// ---- What v1 cannot do ------------------------------------------------------------------------------------
// Only [0, 2 GiB) is translated; there is no second window at 1<<59 for the guest's DDW.
expectErrno(C.mapDma({ vaddr: R, iova: 1n << 59n, size: 0x10000n, flags: RW }), 'ENXIO', 'MAP at 1<<59 -> ENXIO: no such window on v1');

// A guest that fills its whole 1 GiB window: 262144 TCEs (one MAP here; QEMU would see one per TCE).
// Occupied slots are replaced silently and their old pages unpinned. 1 GiB of guest RAM is now pinned;
// locked_vm does not move — it never counted pins, only the fixed 2 GiB.
expectOk(C.mapDma({ vaddr: R, iova: 0n, size: 1n * GiB, flags: RW }), 'MAP(R, 0, 1 GiB) fills the guest window -> 0');
expectEq(qemu.pins(R), 16, 'first 64 KiB page of guest RAM: 16 pins');
expectEq(qemu.pins(R + 1n * GiB - 0x10000n), 16, 'last page of the first GiB: 16 pins');
expectEq(qemu.pins(R + 1n * GiB), 0, 'guest RAM above 1 GiB: not pinned');
expectEq(qemu.pins(R + tx), 16, 'tx\'s page: its old read-only pin replaced by the 16 of the new TCEs');
expectEq(qemu.lockedVm, byKernel({ '4.2': 32832, mainline: 32896 }), 'locked_vm unchanged: 1 GiB pinned, 2 GiB + table charged');

// ---- Tear-down ---------------------------------------------------------------------------------------------
// QEMU closes the device, its memory listener unmaps the guest window, and the group leaves the
// container. QEMU never calls VFIO_IOMMU_DISABLE: the driver release that runs when the last group
// leaves frees the table and returns the ENABLE charge (§4.13, §5.6).
dev.close();
expectOk(C.unmapDma({ iova: 0n, size: 1n * GiB }), 'UNMAP(0, 1 GiB) -> 0');
expectEq(qemu.pins(R), 0, 'all pins dropped');
expectEq(qemu.lockedVm, byKernel({ '4.2': 32832, mainline: 32896 }), 'still charged: nobody called DISABLE');
expectOk(g.unsetContainer(), 'GROUP_UNSET_CONTAINER -> 0: last group, driver released');
expectEq(qemu.lockedVm, 0, 'locked_vm 0: table freed and the 32768-page ENABLE charge returned');
C.close();
g.close();
expectEq(qemu.lockedVm, 0, 'locked_vm 0 after close(container), close(group)');
