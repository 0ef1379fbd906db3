// C61 [4.2] — SET_IOMMU attaches the most recently added group first (kernel-model.md §14.5, RC-A).
// IODA1 (kernel DMA) added before IODA2: the IODA2 group is attached first (default window charged), the
// IODA1 group then fails EBUSY and the release returns the charge: EBUSY, LV 0. Two IODA2 groups with
// different tce32_size: the default window takes the newest group's size, GET_INFO reports the oldest's.
// Decided by vfio_ioctl_set_iommu / __vfio_container_attach_groups and tce_iommu_attach_group.

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
const io2 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const io1 = host.addPhb({ model: 'IODA1', tce32Start: 0n, tce32Size: 0x80000000n });
const p = host.spawn({ name: 'p', memlock: 16n * GiB, capIpcLock: false });
const C = p.openContainer();
expectOk(p.openGroup(io1.addGroup({ kernelDma: true })).setContainer(C), 'C61 SET_CONTAINER(G3 IODA1) -> 0');
expectOk(p.openGroup(io2.addGroup()).setContainer(C), 'C61 SET_CONTAINER(G1) -> 0');
expectErrno(C.setIommu(VFIO_SPAPR_TCE_IOMMU), 'EBUSY', 'C61 SET_IOMMU(2) -> EBUSY');
expectEq(p.lockedVm, 0, 'C61 LV 0 (the default window charge was returned)');
expectEq(C.window(0), null, 'C61 no window');
expectErrno(C.getInfo(), 'EINVAL', 'C61 GET_INFO -> EINVAL (no driver)');
expectErrno(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'EBUSY', 'C61 SET_IOMMU(7) -> EBUSY');
expectEq(p.lockedVm, 0, 'C61 LV 0');

const big = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 2n * GiB, pgsizes: 0x1011000n });
const small = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 1n * GiB, pgsizes: 0x1011000n });
const s = host.spawn({ name: 's', memlock: 16n * GiB, capIpcLock: false });
const Cs = s.openContainer();
expectOk(s.openGroup(big.addGroup()).setContainer(Cs), 'C61 SET_CONTAINER(G8, 2 GiB) -> 0');
expectOk(s.openGroup(small.addGroup()).setContainer(Cs), 'C61 SET_CONTAINER(G7, 1 GiB) -> 0');
expectOk(Cs.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C61 SET_IOMMU(7) -> 0');
expectEq(Cs.window(0)?.size, 1n * GiB, "C61 window 0 = 1 GiB (the newest group's tce32_size)");
expectEq(s.lockedVm, 64, 'C61 LV 64');
expectEq(Cs.getInfo().out?.dma32WindowSize, 2n * GiB, "C61 GET_INFO dma32_window_size 2 GiB (the oldest group's)");
