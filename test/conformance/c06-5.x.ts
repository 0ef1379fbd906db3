// C06 [5.x] — v1 on a DDW-capable group.
// 5.x refuses a group with table-group ops (IODA2) to a v1 container: SET_IOMMU(2) -> EPERM, nothing
// charged, the container keeps no driver (GET_INFO, ENABLE -> EINVAL). v2 on the same group works and
// defers the default window as mainline does (§4.2 5.x, §7.2; T5X:tce_iommu_attach_group).

const host = createHost({ kernel: '5.x', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 16n * GiB, capIpcLock: false });
const C = p.openContainer();
const g1 = p.openGroup(G1);
expectOk(g1.setContainer(C), 'C06 [5.x] P: GROUP_SET_CONTAINER(G1, C) -> 0');

expectErrno(C.setIommu(VFIO_SPAPR_TCE_IOMMU), 'EPERM', 'C06 [5.x] SET_IOMMU(2) on an IODA2 group -> EPERM');
expectEq(p.lockedVm, 0, 'C06 [5.x] LV 0 after the refused SET_IOMMU(2)');
expectErrno(C.getInfo(), 'EINVAL', 'C06 [5.x] no IOMMU driver: GET_INFO -> EINVAL');
expectErrno(C.enable(), 'EINVAL', 'C06 [5.x] no IOMMU driver: ENABLE -> EINVAL');

expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'C06 [5.x] SET_IOMMU(7) on the same group -> 0');
expectEq(p.lockedVm, 0, 'C06 [5.x] LV 0: the default window is deferred');
expectEq(C.defaultWindowPending, true, 'C06 [5.x] default window pending');
