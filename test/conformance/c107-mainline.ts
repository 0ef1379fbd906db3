// K7 [mainline] — 64 KiB guest TCEs over 4 KiB hardware TCEs; attach compatibility (kernel-model.md
// §13.11 K7, §13.6.3 step 6, §13.8 hardware map). A KVM window larger than the hardware one, or at a bus
// address no hardware window starts at, is EINVAL; a 64 KiB KVM page maps 16 hardware entries (subpages).

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });
const R2 = qemu.mmap({ size: 64n * KiB, at: 0x7ffe00000000n });
const vm = qemu.openKvm();
expectOk(vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 4n * GiB, userspaceAddr: R }), 'memslot 0: gpa 0 -> R');
expectOk(vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x100000000n, memorySize: 64n * KiB, userspaceAddr: R2 }), 'memslot 1: gpa 4 GiB -> R2');
const L32 = 0x80000000;
const L64 = 0x80000001;
// Q: VFIO the QEMU way
const C = qemu.openContainer();
const g1 = qemu.openGroup(G1);
expectOk(g1.setContainer(C), 'Q: SET_CONTAINER(G1, C)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'Q: SET_IOMMU(7)');
expectOk(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'Q: REGISTER(R, 4 GiB)');
expectOk(C.removeWindow({ startAddr: 0n }), 'Q: REMOVE(0)');
expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }), 'Q: TCE_CREATE(12, 1 GiB, 1)');
expectEq(qemu.lockedVm, 65600, 'Q: LV 65600');
const mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R)?.mapped;

const a = vm.createSpaprTce64({ liobn: L32, pageShift: 16, offset: 0n, size: 16384n });
expectOk(a, 'K7 _64(L32, 16, 0, 16384) -> 0');
expectEq(a.out?.table.chargedPages, 3, 'K7 charge 3');
expectEq(qemu.lockedVm, 65603, 'K7 LV 65603');
const b = vm.createSpaprTce64({ liobn: 0x80000003, pageShift: 12, offset: 0n, size: 524288n });
expectOk(b, 'K7 _64(0x80000003, 12, 0, 524288) -> 0');
expectEq(b.out?.table.chargedPages, 65, 'K7 charge 65');
expectEq(qemu.lockedVm, 65668, 'K7 LV 65668');
const c = vm.createSpaprTce64({ liobn: L64, pageShift: 16, offset: 1n << 43n, size: 65536n });
expectOk(c, 'K7 _64(L64, 16, 1<<43, 65536) -> 0');
expectEq(c.out?.table.chargedPages, 9, 'K7 charge 9');
expectEq(qemu.lockedVm, 65677, 'K7 LV 65677');
const t32 = a.out!.table;
const t2g = b.out!.table;
const t64 = c.out!.table;
const dev = vm.createVfioDevice().out!.device;
expectOk(dev.addGroup(g1), 'K7 GROUP_ADD(G1) -> 0');
expectErrno(dev.setSpaprTce(g1, t2g), 'EINVAL', 'K7 SET_SPAPR_TCE(G1, 0x80000003) -> EINVAL (2 GiB > 1 GiB)');
expectErrno(dev.setSpaprTce(g1, t64), 'EINVAL', 'K7 SET_SPAPR_TCE(G1, L64) -> EINVAL (no hardware window at 1<<59)');
expectOk(dev.setSpaprTce(g1, t32), 'K7 SET_SPAPR_TCE(G1, L32) -> 0');

expectHcall(vm.hcall.putTce(L32, 0x10000n, 0x20003n), H_SUCCESS, 'kernel', 'K7 PUT(L32, 0x10000, 0x20003) -> H_SUCCESS');
let ok16 = true;
for (let k = 0; k < 16; k++) {
  const ua = R + 0x20000n + BigInt(k) * 0x1000n;
  const e = C.tce(0, 16 + k);
  if (e.value !== (qemu.hpa(ua) | 3n) || e.ua !== ua) ok16 = false;
}
expectEq(ok16, true, 'K7 TCE0[16+k] = hpa(R+0x20000+k*0x1000)|3, ua0[16+k] = R+0x20000+k*0x1000, k = 0..15');
expectEq(t32.tce(1), 0x20003n, 'K7 T[1] = 0x20003');
expectEq(mapped(), 17, 'K7 mapped 17');
expectHcall(vm.hcall.putTce(L32, 0x10000n, 0x21003n), H_TOO_HARD, 'qemu', 'K7 PUT(L32, 0x10000, 0x21003) -> exit (not 64 KiB aligned)');
expectEq(mapped(), 17, 'K7 mapped 17');
expectHcall(vm.hcall.putTce(L32, 0x10000n, 0n), H_SUCCESS, 'kernel', 'K7 PUT(L32, 0x10000, 0) -> H_SUCCESS');
let cleared = true;
for (let k = 0; k < 16; k++) if (C.tce(0, 16 + k).value !== 0n) cleared = false;
expectEq(cleared, true, 'K7 16 hardware entries cleared');
expectEq(mapped(), 1, 'K7 mapped 1');

const w = C.createWindow({ pageShift: 16, windowSize: 4n * GiB, levels: 1 });
expectEq(w.out?.startAddr, 1n << 59n, 'K7 TCE_CREATE(16, 4 GiB, 1) -> 1<<59');
expectEq(qemu.lockedVm, 65693, 'K7 LV 65693');
expectOk(dev.setSpaprTce(g1, t64), 'K7 SET_SPAPR_TCE(G1, L64) -> 0');
expectHcall(vm.hcall.putTce(L64, (1n << 59n) + 0x20000n, 0x30003n), H_SUCCESS, 'kernel', 'K7 PUT(L64, (1<<59)+0x20000, 0x30003) -> H_SUCCESS');
expectEq(C.tce(1, 2).value, qemu.hpa(R + 0x30000n) | 3n, 'K7 TCE1[2] = hpa(R+0x30000)|3');
expectEq(mapped(), 2, 'K7 mapped 2');
expectEq(t64.tce(2), 0x30003n, 'K7 T64[2] = 0x30003');
void G2;
