// C61 [mainline] — group order (kernel-model.md §14.5, RC-A): mainline's errnos do not depend on it, and
// the lazy default window and GET_INFO both use the group added first.
// Decided by vfio_container_attach_group, tce_iommu_attach_group, tce_iommu_create_default_window.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const big = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 2n * GiB, pgsizes: 0x1011000n });
const small = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 1n * GiB, pgsizes: 0x1011000n });
const s = host.spawn({ name: 's', memlock: 16n * GiB, capIpcLock: false });
const T = s.mmap({ size: 0x10000n });
const Cs = s.openContainer();
expectOk(s.openGroup(big.addGroup()).setContainer(Cs), 'C61 SET_CONTAINER(2 GiB group) -> 0');
expectOk(s.openGroup(small.addGroup()).setContainer(Cs), 'C61 SET_CONTAINER(1 GiB group) -> 0');
expectOk(Cs.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C61 SET_IOMMU(7) -> 0 (default window pending)');
expectEq(Cs.getInfo().out?.dma32WindowSize, 2n * GiB, 'C61 GET_INFO dma32_window_size 2 GiB');
expectOk(Cs.registerMemory({ vaddr: T, size: 0x10000n }), 'C61 REGISTER(T, 64K) -> 0');
expectOk(Cs.mapDma({ vaddr: T, iova: 0n, size: 0x10000n, flags: RW }), 'C61 MAP(T, 0, 64K) -> 0');
expectEq(Cs.window(0)?.size, 2n * GiB, 'C61 window 0 = 2 GiB');
expectEq(s.lockedVm, 129, 'C61 LV 129');
