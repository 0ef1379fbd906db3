// C62 [4.2] — no ownership claim at SET_CONTAINER (kernel-model.md §14.6, contrast to mainline).
// The non-DDW group with kernel DMA joins an empty container; SET_IOMMU(2) then fails with EBUSY after
// charging the borrowed table's view, which stays charged (64 pages). With an IODA2 group attached, the
// driver refuses any non-DDW group with EBUSY before charging anything. Decided by
// tce_iommu_attach_group and tce_iommu_take_ownership (drivers/vfio/vfio_iommu_spapr_tce.c).

const host = createHost({ kernel: '4.2', pageSize: 65536, ramSize: 16n * GiB });
const G1 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n }).addGroup();
const io1 = host.addPhb({ model: 'IODA1', tce32Start: 0n, tce32Size: 0x80000000n });
const G3 = io1.addGroup({ kernelDma: true });
const G4 = io1.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const C = p.openContainer();
const g3 = p.openGroup(G3);
expectOk(g3.setContainer(C), 'C62 [4.2] SET_CONTAINER(G3 with kernel DMA, empty C) -> 0');
expectEq(g3.getStatus().out?.flags, 3, 'C62 [4.2] G3 viable and in a container (flags 3)');
expectErrno(C.setIommu(VFIO_SPAPR_TCE_IOMMU), 'EBUSY', 'C62 [4.2] SET_IOMMU(2) -> EBUSY');
expectEq(p.lockedVm, 64, 'C62 [4.2] LV 64: the view charge stays');
expectOk(g3.unsetContainer(), 'C62 [4.2] UNSET_CONTAINER(G3) -> 0');
expectEq(p.lockedVm, 64, 'C62 [4.2] LV 64');
expectOk(p.openGroup(G1).setContainer(C), 'C62 [4.2] SET_CONTAINER(G1, C) -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C62 [4.2] SET_IOMMU(7) -> 0');
expectEq(p.lockedVm, 192, 'C62 [4.2] LV 192 (default window 64 + view 64)');
expectErrno(g3.setContainer(C), 'EBUSY', 'C62 [4.2] SET_CONTAINER(G3, C with G1) -> EBUSY');
expectErrno(p.openGroup(G4).setContainer(C), 'EBUSY', 'C62 [4.2] SET_CONTAINER(G4, C with G1) -> EBUSY');
expectEq(p.lockedVm, 192, 'C62 [4.2] LV 192');
