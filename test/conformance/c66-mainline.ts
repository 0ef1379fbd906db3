// C66 [mainline] — VFIO_GROUP_SET_CONTAINER check order (§14.4, D8).
// 4.x/5.x test "group already in a container" (EINVAL) before looking the fd up (EBADF); mainline looks the
// fd up first. So a group already in a container, given another process's container or a closed fd, gets
// EINVAL in 4.2 and EBADF in mainline; a group in no container gets EBADF in both.
// Decided by vfio_group_set_container (4.x drivers/vfio/vfio.c), vfio_group_ioctl_set_container (group.c).

const host = createHost({ kernel: 'mainline', pageSize: 65536, ramSize: 16n * GiB });
const phb = host.addPhb({ model: 'IODA2', tce32Start: 0n, tce32Size: 0x80000000n, pgsizes: 0x1011000n });
const G1 = phb.addGroup();
const G2 = phb.addGroup();
const p = host.spawn({ name: 'p', memlock: 16n * GiB, capIpcLock: false });
const q = host.spawn({ name: 'q', memlock: 16n * GiB, capIpcLock: false });
const C = p.openContainer();
const Cq = q.openContainer();
const Cx = p.openContainer();
Cx.close();
const g1 = p.openGroup(G1);
expectOk(g1.setContainer(C), 'C66 SET_CONTAINER(G1, C) -> 0');
expectErrno(g1.setContainer(Cq), 'EBADF', "C66 SET_CONTAINER(G1 in C, q's container) -> EBADF");
expectErrno(g1.setContainer(Cx), 'EBADF', 'C66 SET_CONTAINER(G1 in C, a closed fd) -> EBADF');
expectErrno(g1.setContainer(C), 'EINVAL', 'C66 SET_CONTAINER(G1, C) again -> EINVAL');
const g2 = p.openGroup(G2);
expectErrno(g2.setContainer(Cq), 'EBADF', "C66 SET_CONTAINER(G2 in no container, q's container) -> EBADF");
expectErrno(g2.setContainer(Cx), 'EBADF', 'C66 SET_CONTAINER(G2, a closed fd) -> EBADF');
expectOk(g2.setContainer(C), 'C66 SET_CONTAINER(G2, C) -> 0');
expectEq(p.lockedVm, 0, 'C66 LV 0');
