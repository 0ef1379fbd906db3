// K6 [mainline] — H_PUT_TCE_INDIRECT and H_STUFF_TCE (kernel-model.md §13.11 K6, §13.8.2, §13.8.3,
// §13.9.4 item 2). Not enabled by default (exit; QEMU maps entry by entry); once enabled the kernel
// validates the whole list first and refuses it as a whole when one TCE is not pre-registered, so QEMU
// maps the good ones and the bad one fails; argument checks answer H_PARAMETER; STUFF only clears.

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
// QK: Q + KVM table L32, kvm-vfio device, GROUP_ADD(G1), SET_SPAPR_TCE(G1, L32)
const t32 = vm.createSpaprTce64({ liobn: L32, pageShift: 12, offset: 0n, size: 262144n }).out!.table;
expectEq(qemu.lockedVm, 65633, 'QK: LV 65633 with L32');
expectOk(vm.attachVfioGroup(g1, t32), 'QK: device, GROUP_ADD(G1), SET_SPAPR_TCE(G1, L32) -> 0');
expectEq(qemu.lockedVm, 65633, 'QK: LV 65633');
expectEq(qemu.regions()[0]?.mapped, 1, 'QK: R mapped 1');
const mapped = (): number | undefined => qemu.regions().find((x) => x.ua === R)?.mapped;
vm.qemu.addTable({ kvm: t32, container: C });
const hw = (k: number): bigint => C.tce(0, k).value;

const e1 = vm.hcall.putTceIndirect(L32, 0x8000n, [0x10003n, 0x11003n]);
expectHcall(e1, H_TOO_HARD, 'qemu', 'K6 INDIRECT(L32, 0x8000, 2 TCEs) -> exit (not enabled)');
const h1 = vm.qemu.handle(e1);
expectHcall(h1, H_SUCCESS, 'qemu', 'K6 QEMU -> H_SUCCESS');
expectEq(h1.vfio?.map((c) => c.result.ret).join(','), '0,0', 'K6 2 MAP_DMA -> 0, 0');
expectEq(hw(8), qemu.hpa(R + 0x10000n) | 3n, 'K6 TCE0[8] = hpa(R+0x10000)|3');
expectEq(hw(9), qemu.hpa(R + 0x11000n) | 3n, 'K6 TCE0[9] = hpa(R+0x11000)|3');
expectEq(mapped(), 3, 'K6 mapped 3');

expectOk(vm.enableHcall(H_PUT_TCE_INDIRECT), 'K6 ENABLE_HCALL(H_PUT_TCE_INDIRECT) -> 0');
expectOk(vm.enableHcall(H_STUFF_TCE), 'K6 ENABLE_HCALL(H_STUFF_TCE) -> 0');
expectErrno(vm.enableHcall(0x13a), 'EINVAL', 'K6 ENABLE_HCALL(0x13A) -> EINVAL');

const e2 = vm.hcall.putTceIndirect(L32, 0xa000n, [0x12003n, 0x13003n, 0x100000003n, 0x14003n]);
expectHcall(e2, H_TOO_HARD, 'qemu', 'K6 INDIRECT(L32, 0xA000, one TCE into R2) -> exit');
let untouched = true;
for (let k = 10; k <= 13; k++) if (hw(k) !== 0n || t32.tce(k) !== 0n) untouched = false;
expectEq(untouched, true, 'K6 nothing changed (TCE0[10..13] = 0, T[10..13] = 0)');
expectEq(mapped(), 3, 'K6 mapped 3');
const h2 = vm.qemu.handle(e2);
expectHcall(h2, H_SUCCESS, 'qemu', 'K6 QEMU -> H_SUCCESS');
expectEq(h2.vfio?.map((c) => c.result.ret).join(','), '0,0,-22,0', 'K6 4 MAP_DMA -> 0, 0, -EINVAL, 0');
expectEq(hw(10), qemu.hpa(R + 0x12000n) | 3n, 'K6 TCE0[10] mapped');
expectEq(hw(11), qemu.hpa(R + 0x13000n) | 3n, 'K6 TCE0[11] mapped');
expectEq(hw(12), 0n, 'K6 TCE0[12] = 0');
expectEq(hw(13), qemu.hpa(R + 0x14000n) | 3n, 'K6 TCE0[13] mapped');
expectEq([10, 11, 12, 13].map((k) => t32.tce(k).toString(16)).join(','), '12003,13003,100000003,14003', 'K6 T[10..13] = the four TCEs');
expectEq(mapped(), 6, 'K6 mapped 6');

const k1 = vm.hcall.putTceIndirect(L32, 0x10000n, [0x20003n, 0x21003n, 0x22003n]);
expectHcall(k1, H_SUCCESS, 'kernel', 'K6 INDIRECT(L32, 0x10000, 3 TCEs) -> H_SUCCESS kernel');
let good = true;
for (let k = 0; k < 3; k++) if (hw(16 + k) !== (qemu.hpa(R + 0x20000n + BigInt(k) * 0x1000n) | 3n)) good = false;
expectEq(good, true, 'K6 TCE0[16+k] = hpa(R+0x20000+k*0x1000)|3');
expectEq(mapped(), 9, 'K6 mapped 9');
const many: bigint[] = [];
for (let i = 0; i < 513; i++) many.push(0n);
expectHcall(vm.hcall.putTceIndirect(L32, 0x10000n, many), H_PARAMETER, 'kernel', 'K6 INDIRECT npages 513 -> H_PARAMETER');
expectHcall(vm.hcall.putTceIndirect(L32, 0x10000n, [0x20003n], { listGpa: 0x800n }), H_PARAMETER, 'kernel', 'K6 INDIRECT list at 0x800 -> H_PARAMETER');
expectHcall(vm.hcall.putTceIndirect(L32, 0x10800n, [0x20003n]), H_PARAMETER, 'kernel', 'K6 INDIRECT ioba 0x10800 -> H_PARAMETER');
expectHcall(vm.hcall.putTceIndirect(L32, 0x10000n, [0x20003n], { listGpa: 0x200000000n }), H_TOO_HARD, 'qemu', 'K6 INDIRECT list at 0x200000000 -> exit');
expectHcall(vm.hcall.stuffTce(L32, 0x10000n, 0x3n, 3), H_PARAMETER, 'kernel', 'K6 STUFF(L32, 0x10000, 0x3, 3) -> H_PARAMETER');
expectEq(hw(16) !== 0n && t32.tce(16) === 0x20003n && mapped() === 9, true, 'K6 nothing changed by the refused STUFF');
expectHcall(vm.hcall.stuffTce(L32, 0x10000n, 0n, 3), H_SUCCESS, 'kernel', 'K6 STUFF(L32, 0x10000, 0, 3) -> H_SUCCESS');
expectEq(hw(16) === 0n && hw(17) === 0n && hw(18) === 0n, true, 'K6 TCE0[16..18] = 0');
expectEq(t32.tce(16) === 0n && t32.tce(17) === 0n && t32.tce(18) === 0n, true, 'K6 T[16..18] = 0');
expectEq(mapped(), 6, 'K6 mapped 6');
expectHcall(vm.hcall.stuffTce(L32, 0xa000n, 0n, 4), H_SUCCESS, 'kernel', 'K6 STUFF(L32, 0xA000, 0, 4) -> H_SUCCESS');
expectEq(mapped(), 3, 'K6 mapped 3 (entry 12 was empty)');
expectEq(qemu.lockedVm, 65633, 'K6 LV 65633');
void G2;
