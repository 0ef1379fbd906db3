// Memory hot-plug under libvirt's limit: the domain XML says <memory> 8 GiB and <maxMemory> 16 GiB, one
// VFIO device. libvirt sizes RLIMIT_MEMLOCK from the XML (research/memlock-sizing.md §3.1): term (d)
// counts <memory> once, and <maxMemory> only enters through term (a), maxMemory/128, meant for the hash
// page table. The guest boots fine. Then a 4 GiB DIMM is hot-plugged: QEMU pre-registers the new RAM
// at run time (VFIO_IOMMU_SPAPR_REGISTER_MEMORY), the charge crosses the limit, and QEMU stops with
// "vfio: Memory registering failed, unable to continue" (hw/vfio/spapr.c, research §3.2) — a fatal error
// long after start-up. `dmawb size` finds the limit the whole run needs and names the term that falls
// short; setting that limit (here with setrlimit, in life with <memtune><hard_limit> or a prlimit before
// the hot-plug) lets the DIMM in.
//
// Spec: kernel-model.md §1.5 (limit check), §4.8 (REGISTER), §5.2/§5.4 (what v2 charges);
// research/memlock-sizing.md §3.1, §3.2 (row (d): hot-plugged DIMMs are not covered).
//
// Run:  npm run -s dmawb -- run examples/libvirt-hotplug.ts --kernel mainline
//       npm run -s dmawb -- size examples/libvirt-hotplug.ts

const host = createHost(); // 64 KiB system pages; the profile follows --kernel
const G = host.addPhb().addGroup({ devices: ['0001:01:00.0'] });

// ---- the domain XML -----------------------------------------------------------------------------------
const RAM = 8n * GiB; // <memory>
const MAX_RAM = 16n * GiB; // <maxMemory slots='16'>: room for DIMMs plugged later
const DIMM = 4n * GiB;
const guest = { ram: RAM, maxRam: MAX_RAM, phbs: 1, passthrough: 1 };

// libvirt's ppc64 formula in KiB: (a) maxMemory/128 + (b) 4096·nPHB + 8192 + MAX((c) 2 GiB·nPHB, (d) memory + (e) memory/512·nPHB + 8192)
const a = MAX_RAM / KiB / 128n;
const b = 4096n + 8192n;
const d = RAM / KiB;
const e = RAM / KiB / 512n + 8192n;
const libvirtKiB = a + b + d + e; // (c) = 2 GiB is the smaller side of the MAX
expectEq(libvirtKiB, 8556544n, 'libvirt: 131072 + 12288 + 8388608 + 24576 = 8556544 KiB');

const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: libvirtKiB * KiB, guest });
const R = qemu.mmap({ size: RAM, at: 0x7ffe00000000n });

// ---- boot: QEMU's v2 start-up, the guest's DDW sized for maxMemory ------------------------------------------
const C = qemu.openContainer();
const g = qemu.openGroup(G);
expectOk(g.setContainer(C), 'GROUP_SET_CONTAINER');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(v2)');
expectOk(C.registerMemory({ vaddr: R, size: RAM }), 'REGISTER_MEMORY: the 8 GiB of <memory>');
expectOk(C.removeWindow({ startAddr: 0n }), 'REMOVE(0)');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'the 1 GiB 32-bit window');
// Linux sizes its DDW for the most memory it may ever have (hot-plug included): 16 GiB of 64 KiB TCEs
const ddw = C.createWindow({ pageShift: 16, windowSize: MAX_RAM, levels: 1 });
expectOk(ddw, 'DDW: 16 GiB of 64 KiB TCEs');
expectOk(C.mapDma({ vaddr: R, iova: ddw.out?.startAddr ?? 0n, size: RAM }), 'boot RAM mapped into the DDW');
// 131072 pages of RAM + 64 (1 GiB @ 4 KiB) + 64 (16 GiB @ 64 KiB; 4.2: 32 + 32 view)
expectEq(qemu.lockedVm, 131200, 'booted: locked_vm 131200 pages = 8 GiB + 8 MiB, under the limit');

// ---- hot-plug a 4 GiB DIMM ------------------------------------------------------------------------------------
const D = qemu.mmap({ size: DIMM, at: 0x7ffc00000000n });
let plug = C.registerMemory({ vaddr: D, size: DIMM });
const refused = plug.ret !== 0;
if (refused) {
  // what QEMU does: hw_error("vfio: Memory registering failed, unable to continue"). The why of this
  // refusal (run it with dmawb run) gives the limit the whole run needs, in KiB, and the knobs.
  log(`hot-plug refused: ${plug.errno}; QEMU would stop here`);
  expectErrno(plug, 'ENOMEM', "the DIMM's REGISTER crosses libvirt's limit: (d) counted only <memory>");
  // the fix: the limit `dmawb size` prints, 196736 pages = 12591104 KiB
  qemu.memlock = 12591104n * KiB;
  plug = C.registerMemory({ vaddr: D, size: DIMM });
}
expectOk(plug, 'with the sized limit the DIMM registers');
expectOk(C.mapDma({ vaddr: D, iova: (ddw.out?.startAddr ?? 0n) + RAM, size: DIMM }), 'the DIMM mapped into the DDW');
expectEq(qemu.lockedVm, 196736, 'locked_vm 196736 pages = 12 GiB + 8 MiB');
expectEq(libvirtKiB - 196736n * 64n, -4034560n, "libvirt's limit is short by 4034560 KiB (3.85 GiB): the DIMM, less what term (a) leaves");

// ---- tear-down --------------------------------------------------------------------------------------------------
expectOk(C.unmapDma({ iova: ddw.out?.startAddr ?? 0n, size: RAM + DIMM }), 'unmap');
expectOk(C.unregisterMemory({ vaddr: D, size: DIMM }), 'UNREGISTER the DIMM');
expectOk(C.unregisterMemory({ vaddr: R, size: RAM }), 'UNREGISTER boot RAM');
g.close();
C.close();
expectEq(qemu.lockedVm, 0, 'everything returned');
