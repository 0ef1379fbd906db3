// QEMU/KVM starting a 4 GiB sPAPR guest with one VFIO device on a POWER8/9 (IODA2) host, as QEMU really
// runs it: a KVM-HV VM whose in-kernel TCE tables (one per guest DMA window) are linked to the VFIO
// windows they feed, an sPAPR TCE v2 container with guest RAM pre-registered, the guest's 1 GiB 32-bit
// DMA window, then a 4 GiB dynamic DMA window (DDW) that the guest maps its RAM into through
// H_PUT_TCE_INDIRECT — and the tear-down when QEMU exits.
//
// Where the locked_vm figures come from (64 KiB system pages; kernel-model.md §13.10.2):
//   guest RAM, REGISTER_MEMORY ........................ 65536  (4 GiB / 64 KiB, charged once)
//   VFIO 32-bit window table, 1 GiB @ 4 KiB ............... 64  (4.2: table 32 + view 32; else 2 x 32)
//   VFIO DDW table, 4 GiB @ 64 KiB ........................ 16
//   KVM table for the 32-bit window (kvmppc_stt_pages) ... 33  (none on 4.2: no KVM accounting, and QEMU
//   KVM table for the DDW ................................. 9   keeps userspace tables for VFIO windows)
//   total at the peak: 65658 (5.x, mainline) / 65616 (4.2). The mappings themselves charge nothing.
// QEMU decides from what the host answers, not from a version: KVM_CHECK_EXTENSION(KVM_CAP_SPAPR_TCE_64,
// KVM_CAP_SPAPR_TCE_VFIO, KVM_CAP_SPAPR_MULTITCE). With them (5.x, mainline) the guest's TCE hypercalls
// are answered in the kernel, which writes the hardware TCEs through the pre-registered memory; without
// them (4.2) every hypercall exits to QEMU, which issues one VFIO MAP_DMA/UNMAP_DMA per TCE.
//
// Spec: kernel-model.md §10.1 (QEMU's VFIO sequence), §13.3–§13.9 (KVM side), §13.10.2 (the table above),
// §4.8 (REGISTER), §4.10/§4.11 (TCE_CREATE/REMOVE), §5.2 (table sizes), §8 (DDW). The same sequence as a
// bare conformance case: K11 (mainline, c111) and K12 (4.2, c112).
//
// Run:  npm run -s dmawb -- run examples/qemu-v2-ddw.ts --kernel mainline
//       npm run -s dmawb -- run examples/qemu-v2-ddw.ts --kernel 4.2
// (createHost() names no kernel, so the run's --kernel / the workbench selector decides.)

// ---- The host ----------------------------------------------------------------------------------------
// 64 KiB system pages (ppc64 distributions), 64 GiB of host RAM, one IODA2 PHB whose PE is IOMMU group G.
const host = createHost();
const phb = host.addPhb({ model: 'IODA2' });
const G = phb.addGroup({ devices: ['0001:01:00.0'] });

// The QEMU process; libvirt raised RLIMIT_MEMLOCK to guest RAM + 1 GiB before starting it.
const qemu = host.spawn({ name: 'qemu-system-ppc64', memlock: 5n * GiB });
const GUEST_RAM = 4n * GiB;
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7fff00000000n });
const region = () => qemu.regions()[0];

// ---- 1. The VM: /dev/kvm, KVM_CREATE_VM, guest RAM as memslot 0 (guest physical 0 = R) -------------------
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: GUEST_RAM, userspaceAddr: R }), '1. KVM_SET_USER_MEMORY_REGION(slot 0, 4 GiB) -> 0');
const TCE64 = vm.checkExtension(KVM_CAP_SPAPR_TCE_64).ret === 1;
const TCE_VFIO = vm.checkExtension(KVM_CAP_SPAPR_TCE_VFIO).ret === 1;
const MULTITCE = vm.checkExtension(KVM_CAP_SPAPR_MULTITCE).ret === 1;
// kvmppc_spapr_enable_inkernel_multitce: a new VM has only H_GET_TCE and H_PUT_TCE in the kernel
if (MULTITCE) {
  expectOk(vm.enableHcall(H_PUT_TCE_INDIRECT), '1. ENABLE_HCALL(H_PUT_TCE_INDIRECT) -> 0');
  expectOk(vm.enableHcall(H_STUFF_TCE), '1. ENABLE_HCALL(H_STUFF_TCE) -> 0');
}
expectEq(qemu.lockedVm, 0, '1. locked_vm 0: a VM and its memslots charge nothing');

// ---- 2. The PHB's 32-bit DMA window: a KVM TCE table (LIOBN 0x80000000), 1 GiB of 4 KiB TCEs at 0 ------
// spapr_tce_alloc_table -> kvmppc_create_spapr_tce: KVM_CREATE_SPAPR_TCE_64 where the host has it, else
// the legacy ioctl (bus offset 0 fits it). QEMU's table is the mmap of the table fd.
const L32 = 0x80000000;
const k32 = TCE64
  ? vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n })
  : vm.createSpaprTce({ liobn: L32, windowSize: 1n * GiB });
expectOk(k32, '2. KVM TCE table for LIOBN 0x80000000 -> 0');
const t32 = k32.out!.table;
expectEq(t32.pageShift, 12, '2. 4 KiB TCEs');
expectEq(t32.size, 262144n, '2. 262144 entries (1 GiB)');
expectEq(qemu.lockedVm, t32.chargedPages, '2. locked_vm = the KVM table charge (33 pages; 0 on 4.2)');

// ---- 3. VFIO: container, group, sPAPR TCE v2 (QEMU's vfio_connect_container) ---------------------------
const C = qemu.openContainer();
expectRet(C.getApiVersion(), 0, '3. GET_API_VERSION -> 0');
expectRet(C.checkExtension(VFIO_SPAPR_TCE_v2_IOMMU), 1, '3. CHECK_EXTENSION(VFIO_SPAPR_TCE_v2_IOMMU) -> 1');
const g = qemu.openGroup(G);
expectEq(g.getStatus().out?.flags, 1, '3. GROUP_GET_STATUS: VIABLE');
expectOk(g.setContainer(C), '3. GROUP_SET_CONTAINER -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), '3. SET_IOMMU(VFIO_SPAPR_TCE_v2_IOMMU) -> 0');
// 4.2 creates and charges the 2 GiB default window now (64 + 64 pages); later kernels defer it.
const defaultCharge = C.defaultWindowPending ? 0 : 128;
expectEq(qemu.lockedVm, t32.chargedPages + defaultCharge, '3. locked_vm + 128 (4.2 default window) / + 0 (pending)');

// ---- 4. Pre-register guest RAM (QEMU's prereg listener): 4 GiB / 64 KiB = 65536 pages, once -------------
expectOk(C.registerMemory({ vaddr: R, size: GUEST_RAM }), '4. REGISTER_MEMORY(R, 4 GiB) -> 0');
expectEq(qemu.lockedVm, 65536 + t32.chargedPages + defaultCharge, '4. locked_vm 65569 (5.x, mainline) / 65664 (4.2)');
expectEq(region()?.mapped, 1, '4. region mapped = 1 (the bias: no TCE points into it yet)');

// ---- 5. The kvm-vfio device, created once per QEMU process; every VFIO group is GROUP_ADDed --------------
const dev = vm.createVfioDevice().out!.device;
expectOk(dev.addGroup(g), '5. KVM_DEV_VFIO_GROUP_ADD(G) -> 0');

// ---- 6. GET_INFO, then REMOVE the kernel's default window so the guest's geometry is used ----------------
const info = C.getInfo({ argsz: 32 });
expectOk(info, '6. GET_INFO -> 0');
expectEq(info.out?.flags, 1, '6. flags = VFIO_IOMMU_SPAPR_INFO_DDW');
expectEq(info.out?.dma32WindowStart, 0n, '6. dma32_window_start 0');
expectEq(info.out?.dma32WindowSize, 2n * GiB, '6. dma32_window_size 2 GiB');
expectEq(info.out?.ddw.maxDynamicWindowsSupported, 2, '6. two dynamic windows');
expectEq(info.out?.ddw.levels, 5, '6. up to 5 TCE levels');
expectOk(C.removeWindow({ startAddr: 0n }), '6. TCE_REMOVE(0) -> 0');
expectEq(qemu.lockedVm, 65536 + t32.chargedPages, '6. locked_vm: guest RAM + the KVM table only');

// ---- 7. The VFIO window for the 32-bit window: TCE_CREATE(12, 1 GiB, 1 level) at bus address 0 ---------
const w32 = C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 });
expectOk(w32, '7. TCE_CREATE(12, 1 GiB, 1) -> 0');
expectEq(w32.out?.startAddr, 0n, '7. start_addr 0');
expectEq(qemu.lockedVm, 65600 + t32.chargedPages, '7. locked_vm 65633 (5.x, mainline) / 65600 (4.2): +64 table');
// Then the KVM table is linked to it (vfio_spapr_kvm_attach_tce) where the host can; without
// KVM_CAP_SPAPR_TCE_VFIO QEMU replaces the KVM table by a userspace one (spapr_tce_set_need_vfio).
let q32: QemuTceTable;
if (TCE_VFIO) {
  expectOk(dev.setSpaprTce(g, t32), '7. KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE(G, LIOBN 0x80000000) -> 0');
  q32 = vm.qemu.addTable({ kvm: t32, container: C });
} else {
  t32.close();
  q32 = vm.qemu.addTable({ liobn: L32, pageShift: 12, entries: 262144, container: C });
}
expectEq(qemu.lockedVm, 65600 + t32.chargedPages * (TCE_VFIO ? 1 : 0), '7. locked_vm 65633 / 65600');

/** the guest issues a TCE hypercall; an exit goes to QEMU's handler, as KVM_RUN's caller would do */
function guest(r: HcallResult): HcallResult {
  return r.handledBy === 'qemu' ? vm.qemu.handle(r) : r;
}

// ---- 8. The guest boots and maps two driver buffers in the 32-bit window ----------------------------------
// H_PUT_TCE(0x80000000, ioba, gpa | R | W): answered in the kernel where linked (the hardware TCE is
// written through the pre-registered region: mapped +1), else by QEMU with one VFIO MAP_DMA.
const rxBuf = 0x3f23000n; // guest physical addresses of two buffers
const txBuf = 0x5007000n;
const first = vm.hcall.putTce(L32, 0x1000n, rxBuf | 3n);
expectEq(first.handledBy, TCE_VFIO ? 'kernel' : 'qemu', '8. answered in the kernel where linked, else an exit to QEMU');
expectEq(first.ret, TCE_VFIO ? H_SUCCESS : H_TOO_HARD, '8. H_SUCCESS from KVM, or H_TOO_HARD (exit)');
expectHcall(guest(first), H_SUCCESS, undefined, '8. H_PUT_TCE(0x1000, rx|RW) -> H_SUCCESS');
expectEq(t32.tce(1) === (rxBuf | 3n) || !TCE_VFIO, true, "8. KVM's guest view holds the TCE where linked");
expectEq(C.tce(0, 1).value, qemu.hpa(R + rxBuf) | 3n, '8. TCE0[1] = hpa(R + 0x3f23000) | READ | WRITE');
expectEq(C.tce(0, 1).ua, R + rxBuf, '8. it_userspace[1] = R + 0x3f23000');
expectHcall(guest(vm.hcall.putTce(L32, 0x2000n, txBuf | 1n)), H_SUCCESS, undefined, '8. H_PUT_TCE(0x2000, tx|R) -> H_SUCCESS');
expectEq(C.tce(0, 2).perm, 1, '8. TCE0[2] is read-only for the device');
expectEq(q32.tce(2), txBuf | 1n, "8. the guest's view of entry 2");
expectEq(region()?.mapped, 3, '8. region mapped 3 = bias + 2 TCEs');
expectEq(qemu.lockedVm, 65600 + (TCE_VFIO ? t32.chargedPages : 0), '8. locked_vm unchanged by the mappings');
expectHcall(guest(vm.hcall.putTce(L32, 0x1000n, 0n)), H_SUCCESS, undefined, '8. H_PUT_TCE(0x1000, 0) -> H_SUCCESS');
expectEq(C.tce(0, 1).value, 0n, '8. TCE0[1] cleared');
expectEq(region()?.mapped, 2, '8. region mapped 2');

// ---- 9. The guest asks for a DDW: 4 GiB of 64 KiB TCEs at 1<<59 (LIOBN 0x80000001) ------------------------
// QEMU creates the KVM table first (only _64 can place it at bus 1<<59), then the VFIO window, then links.
const DDW = 1n << 59n;
const L64 = 0x80000001;
const k64 = TCE64 ? vm.createSpaprTce64({ liobn: L64, pageShift: 16, offset: DDW >> 16n, size: 65536n }) : null;
const ddw = C.createWindow({ pageShift: 16, windowSize: GUEST_RAM, levels: 1 });
expectOk(ddw, '9. TCE_CREATE(16, 4 GiB, 1) -> 0');
expectEq(ddw.out?.startAddr, DDW, '9. start_addr 1<<59 (slot 1)');
let q64: QemuTceTable;
if (k64 && TCE_VFIO) {
  expectOk(dev.setSpaprTce(g, k64.out!.table), '9. SET_SPAPR_TCE(G, LIOBN 0x80000001) -> 0');
  q64 = vm.qemu.addTable({ kvm: k64.out!.table, container: C });
} else {
  k64?.out?.table.close();
  q64 = vm.qemu.addTable({ liobn: L64, pageShift: 16, busOffset: DDW, entries: 65536, container: C });
}
const kvmTables = t32.chargedPages + (k64?.out?.table.chargedPages ?? 0);
expectEq(qemu.lockedVm, 65616 + (TCE_VFIO ? kvmTables : 0), '9. locked_vm 65658 (5.x, mainline) / 65616 (4.2): the peak');

// ---- 10. The guest maps its RAM into the DDW, 1:1, 512 TCEs per H_PUT_TCE_INDIRECT ----------------------
// In the kernel each call validates its list against the pre-registered region and writes 512 hardware
// TCEs; on 4.2 each exits and QEMU issues 512 MAP_DMA ioctls. A Linux guest maps all 4 GiB (128 calls);
// this script maps the first 64 MiB (2 calls) to keep the 4.2 log short: the rest is more of the same.
const MAPPED = 1024; // TCEs of 64 KiB
let answered = 0;
for (let k = 0; k < MAPPED; k += 512) {
  const list: bigint[] = [];
  for (let j = 0; j < 512; j++) list.push((BigInt(k + j) << 16n) | 3n);
  if (guest(vm.hcall.putTceIndirect(L64, DDW + (BigInt(k) << 16n), list)).ret === H_SUCCESS) answered++;
}
expectEq(answered, 2, '10. 2 x H_PUT_TCE_INDIRECT -> H_SUCCESS');
expectEq(C.tce(1, 0).value, qemu.hpa(R) | 3n, '10. TCE1[0] = hpa(R) | 3');
expectEq(C.tce(1, 1023).ua, R + 0x3ff0000n, '10. TCE1[1023] points at R + 0x3ff0000');
expectEq(C.tce(1, 1024).value, 0n, '10. TCE1[1024] not mapped (yet)');
expectEq(q64.tce(1023), (1023n << 16n) | 3n, "10. the guest's view of DDW entry 1023");
expectEq(region()?.mapped, 1026, '10. region mapped 1026 = bias + 1 (32-bit window) + 1024 (DDW)');
expectEq(qemu.lockedVm, 65616 + (TCE_VFIO ? kvmTables : 0), '10. mapping charged nothing');

// ---- 11. Tear-down when QEMU exits -------------------------------------------------------------------------
// Each window QEMU's way: UNMAP the whole window, TCE_REMOVE, close the KVM table. Then UNREGISTER guest
// RAM (after the unmaps: see examples/unregister-kvm-mappings.ts), the device, the VM, the VFIO fds.
expectOk(C.unmapDma({ iova: DDW, size: GUEST_RAM }), '11. UNMAP(1<<59, 4 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: DDW }), '11. TCE_REMOVE(1<<59) -> 0');
k64?.out?.table.close();
expectOk(C.unmapDma({ iova: 0n, size: 1n * GiB }), '11. UNMAP(0, 1 GiB) -> 0');
expectOk(C.removeWindow({ startAddr: 0n }), '11. TCE_REMOVE(0) -> 0');
t32.close();
expectEq(region()?.mapped, 1, '11. region mapped 1: no TCE left');
expectEq(qemu.lockedVm, 65536, '11. locked_vm 65536: guest RAM only');
expectOk(C.unregisterMemory({ vaddr: R, size: GUEST_RAM }), '11. UNREGISTER_MEMORY(R, 4 GiB) -> 0');
dev.close();
vm.close();
expectOk(g.unsetContainer(), '11. GROUP_UNSET_CONTAINER -> 0');
C.close();
g.close();
expectEq(qemu.lockedVm, 0, '11. locked_vm 0');
expectEq(C.window(0), null, '11. no window left');
expectEq(qemu.regions().length, 0, '11. no region left');
