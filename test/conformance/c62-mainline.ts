// C62 [mainline] — DMA ownership is claimed at SET_CONTAINER, before the driver (kernel-model.md §14.6, RC-B).
// A non-DDW group whose kernel table still has DMA mappings cannot be claimed: EBUSY, into an empty
// container as into a v2 one (where the driver would say EINVAL); without kernel DMA the claim succeeds
// and the driver decides. Nothing is charged. Decided by vfio_container_attach_group (container.c) and
// iommu_take_ownership (arch/powerpc/kernel/iommu.c) through the borrowing ops.

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const G1 = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n }).addGroup();
const io1 = host.addPhb({ model: 'IODA1', tce32Start: 0n, tce32Size: 0x80000000n });
const G3 = io1.addGroup({ kernelDma: true });
const G4 = io1.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const C = p.openContainer();
const g3 = p.openGroup(G3);
expectErrno(g3.setContainer(C), 'EBUSY', 'C62 SET_CONTAINER(G3 with kernel DMA, empty C) -> EBUSY');
expectEq(g3.getStatus().out?.flags, 1, 'C62 G3 viable, in no container (flags 1)');
expectOk(p.openGroup(G1).setContainer(C), 'C62 SET_CONTAINER(G1, C) -> 0');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C62 SET_IOMMU(7) -> 0');
expectErrno(g3.setContainer(C), 'EBUSY', 'C62 SET_CONTAINER(G3, v2 C) -> EBUSY (not EINVAL: the claim comes first)');
const g4 = p.openGroup(G4);
expectErrno(g4.setContainer(C), 'EINVAL', 'C62 SET_CONTAINER(G4 without kernel DMA, v2 C) -> EINVAL (the driver refuses)');
const C2 = p.openContainer();
expectOk(g4.setContainer(C2), 'C62 SET_CONTAINER(G4, empty C2) -> 0');
expectOk(C2.setIommu(VFIO_SPAPR_TCE_IOMMU), 'C62 SET_IOMMU(2) on C2 -> 0');
expectErrno(g3.setContainer(p.openContainer()), 'EBUSY', 'C62 SET_CONTAINER(G3, another empty container) -> EBUSY');
expectEq(p.lockedVm, 0, 'C62 LV 0 throughout');
