// C57 [5.x] — a non-DDW (IODA1) group G3 in v2 and v1 containers.
// 5.x gives non-DDW groups no table-group ops: SET_IOMMU(7) -> EPERM (v2 needs ops); SET_IOMMU(2) takes the
// kernel's own table without charging a userspace view (only 4.2 charges it) -> 0, LV 0. With kernel DMA
// still mapped in that table the take fails with EBUSY (§4.2 5.x, §7.1, §9 C57; T5X:tce_iommu_attach_group,
// tce_iommu_take_ownership).

const host = createHost({ kernel: '5.x', pageSize: 65536, ramSize: 16n * GiB });
const phb1 = host.addPhb({ model: 'IODA1', tce32Start: 0n, tce32Size: 0x80000000n });
const G3 = phb1.addGroup();
const G5 = phb1.addGroup({ kernelDma: true });
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const C = p.openContainer();
const g3 = p.openGroup(G3);
expectOk(g3.setContainer(C), 'C57 [5.x] GROUP_SET_CONTAINER(G3, C) -> 0');

expectErrno(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'EPERM', 'C57 [5.x] SET_IOMMU(7) with the non-DDW G3 -> EPERM');
expectEq(p.lockedVm, 0, 'C57 [5.x] LV 0 after the refused SET_IOMMU(7)');
expectOk(C.setIommu(VFIO_SPAPR_TCE_IOMMU), 'C57 [5.x] SET_IOMMU(2) with G3 -> 0 (kernel table borrowed)');
expectEq(p.lockedVm, 0, 'C57 [5.x] LV 0: no userspace view is charged in 5.x');
const info = C.getInfo({ argsz: 32 });
expectOk(info, 'C57 [5.x] GET_INFO -> 0');
expectEq(info.out?.flags, 0, 'C57 [5.x] GET_INFO flags 0 (no DDW)');

const q = host.spawn({ name: 'q', memlock: 16n * GiB, capIpcLock: false });
const C2 = q.openContainer();
expectOk(q.openGroup(G5).setContainer(C2), 'C57 [5.x] GROUP_SET_CONTAINER(G5 with kernel DMA, C2) -> 0');
expectErrno(C2.setIommu(VFIO_SPAPR_TCE_IOMMU), 'EBUSY', 'C57 [5.x] SET_IOMMU(2) with kernel DMA in the table -> EBUSY');
expectEq(q.lockedVm, 0, 'C57 [5.x] LV 0 after the EBUSY (no view charged, nothing leaked)');
