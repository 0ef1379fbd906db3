// An 8 GiB guest with one VFIO device, started by libvirt: does the RLIMIT_MEMLOCK libvirt gives QEMU
// cover what the kernel charges? libvirt computes it from the domain XML with its ppc64 formula
// (qemuDomainGetMemLockLimitBytes, research/memlock-sizing.md §3.1) and prlimit()s QEMU before it starts.
// Here the scenario computes the same figure, starts QEMU with it, and runs QEMU's v2 + DDW start-up:
// guest RAM pre-registered, the 1 GiB 32-bit window, then the guest's RAM-sized 64 KiB-page DDW with all
// RAM mapped. It fits, with about 92 MiB to spare — most of it term (a), which libvirt reserves for the
// hash page table, a cost the kernel never charges to locked_vm.
//
// `guest` on spawn() describes the domain XML (RAM, PHBs, passthrough devices) for memlock sizing; it
// changes nothing the emulated kernel does. `dmawb size` then prints libvirt's limit term by term beside
// the peak the run reached.
//
// Spec: kernel-model.md §1.5 (limit check), §5.2/§5.4 (what v2 charges), §10.1 (QEMU's sequence);
// research/memlock-sizing.md §3.1 (the formula), §3.2 (terms against the kernel's charges).
//
// Run:  npm run -s dmawb -- run examples/libvirt-8g-guest.ts --kernel mainline
//       npm run -s dmawb -- size examples/libvirt-8g-guest.ts --kernel 4.2

const host = createHost(); // 64 KiB system pages; the profile follows --kernel
function byKernel<T>(v: { '4.2': T; '5.x'?: T; mainline: T }): T {
  return v[host.kernel] ?? v.mainline; // 5.x: mainline's accounting unless given
}
const G = host.addPhb().addGroup({ devices: ['0001:01:00.0'] });

// ---- the domain XML: <memory unit='GiB'>8</memory>, one <hostdev>, the default PHB ----------------------
const GUEST_RAM = 8n * GiB;
const guest = { ram: GUEST_RAM, phbs: 1, passthrough: 1 };

// libvirt's ppc64 formula, in KiB as libvirt computes it:
//   (a) maxMemory/128        the hash page table (not charged to locked_vm by the kernel)
//   (b) 4096·nPHB + 8192     a 2 GiB 32-bit window of 4 KiB TCEs per PHB, plus 8 MiB of extras
//   passthrough: MAX((c) 2 GiB·nPHB, (d) memory + (e) memory/512·nPHB + 8192)
const memKiB = GUEST_RAM / KiB;
const a = memKiB / 128n;
const b = 4096n * 1n + 8192n;
const c = 2n * 1024n * 1024n;
const d = memKiB;
const e = (memKiB / 512n) * 1n + 8192n;
const libvirtKiB = a + b + (c > d + e ? c : d + e);
expectEq(libvirtKiB, 8491008n, 'libvirt: 65536 + 12288 + 8388608 + 24576 = 8491008 KiB');

const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: libvirtKiB * KiB, guest });
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7ffe00000000n });

// ---- QEMU's v2 start-up (kernel-model.md §10.1) -------------------------------------------------------
const C = qemu.openContainer();
const g = qemu.openGroup(G);
expectOk(g.setContainer(C), 'GROUP_SET_CONTAINER');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(v2)');
expectOk(C.registerMemory({ vaddr: R, size: GUEST_RAM }), 'REGISTER_MEMORY: all 8 GiB of guest RAM');
// 4.2 still holds the default 2 GiB window (64-page table + 64-page view) here: its peak
expectEq(qemu.lockedVm, byKernel({ '4.2': 131200, mainline: 131072 }), 'locked_vm after REGISTER');
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0): the default window');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'the 1 GiB 32-bit window');
const ddw = C.createWindow({ pageShift: 16, windowSize: GUEST_RAM, levels: 1 });
expectOk(ddw, "the guest's DDW: 8 GiB of 64 KiB TCEs");
expectOk(C.mapDma({ vaddr: R, iova: ddw.out?.startAddr ?? 0n, size: GUEST_RAM }), 'all RAM mapped into the DDW');
// 8 GiB of RAM (131072 pages) + 1 GiB @ 4 KiB (64) + 8 GiB @ 64 KiB (32; 4.2: 16 + 16 view)
expectEq(qemu.lockedVm, 131168, 'locked_vm: 8 GiB + 6 MiB of TCE tables');

// ---- the verdict ------------------------------------------------------------------------------------------
const peakKiB = BigInt(byKernel({ '4.2': 131200, mainline: 131168 })) * 64n;
expectEq(libvirtKiB - peakKiB, byKernel({ '4.2': 94208n, mainline: 96256n }), "libvirt's limit covers the peak: 92 MiB (4.2) / 94 MiB (mainline) to spare");
expectEq(a > libvirtKiB - peakKiB, false, 'the spare is less than term (a): without the hash-page-table term it would still fit, barely');
log(`libvirt ${libvirtKiB} KiB, peak ${peakKiB} KiB: ${libvirtKiB - peakKiB} KiB to spare`);

// QEMU's tear-down: unmap, unregister (4.2 keeps a region charged until UNREGISTER), close
expectOk(C.unmapDma({ iova: ddw.out?.startAddr ?? 0n, size: GUEST_RAM }), 'unmap the DDW');
expectOk(C.unregisterMemory({ vaddr: R, size: GUEST_RAM }), 'UNREGISTER_MEMORY');
g.close();
C.close();
expectEq(qemu.lockedVm, 0, 'QEMU exits: everything returned');
