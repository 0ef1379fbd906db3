/**
 * Models drivers/vfio/group.c (drivers/vfio/vfio.c before ~6.2): the group fd — open, the
 * VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER and
 * VFIO_GROUP_GET_DEVICE_FD ioctls, and what closing a group or device fd does (kernel-model.md §3 items
 * 3, 4; §7.1).
 */
import type { Fd, Kernel, Proc } from './kernel.ts';
import type { Group } from './pci-ioda.ts';
import { type Res, fail, ok } from './result.ts';
import { kernelIommu } from './cite.ts';
import { tceIommuAttachGroup, tceIommuDetachGroup, tceIommuRelease } from './spapr-tce.ts';
import { vfioContainerRelease, type Container, type ContainerFile } from './vfio-container.ts';

/** an open group fd (/dev/vfio/N) */
export class GroupFile {
  readonly kind = 'group';
  open = true;
  constructor(
    readonly proc: Proc,
    readonly group: Group,
  ) {}
}

/** a device fd from VFIO_GROUP_GET_DEVICE_FD */
export class DeviceFile {
  readonly kind = 'device';
  open = true;
  constructor(
    readonly proc: Proc,
    readonly group: Group,
    readonly device: string,
  ) {}
}

export function vfioGroupFopsOpen(k: Kernel, p: Proc, g: Group): GroupFile | Res<never> {
  if (g.fdOpen)
    return fail('EBUSY', `open(/dev/vfio/${g.id}): the group is already open (§3)`, k.profile.src.groupOpen);
  g.fdOpen = true;
  const f = new GroupFile(p, g);
  p.fds.push(f);
  k.changes.touchGroup(g);
  return f;
}

export function vfioGroupIoctlGetStatus(k: Kernel, g: Group): Res<{ flags: number }> {
  const flags = 1 | (g.container !== null ? 2 : 0); // VIABLE | CONTAINER_SET
  return ok(
    `group ${g.name} is viable${g.container !== null ? ' and in a container' : ''}`,
    k.profile.src.groupGetStatus,
    { flags },
  );
}

export function vfioGroupIoctlSetContainer(k: Kernel, caller: Proc, g: Group, cf: ContainerFile | null): Res {
  // §14.4 (D8): 4.x/5.x test the group's container users before looking the fd up; mainline the fd first
  const inContainer = (): Res<never> | null =>
    g.container === null
      ? null
      : fail(
          'EINVAL',
          `VFIO_GROUP_SET_CONTAINER: ${g.name} is already in container ${g.container} (§3 item 3, §14.4)`,
          k.profile.src.groupSetContainer,
        );
  if (k.profile.setContainerGroupTestFirst) {
    const x = inContainer();
    if (x) return x;
  }
  if (!cf || !cf.open || cf.proc !== caller)
    return fail(
      'EBADF',
      `VFIO_GROUP_SET_CONTAINER: the fd is not an open file of this process (§3 item 3, §14.4)`,
      k.profile.src.groupSetContainer,
    );
  const c = cf.container;
  const x = inContainer();
  if (x) return x;
  if (k.profile.ownershipTakenAt === 'set-container') {
    // mainline: the IOMMU core claims DMA ownership now (§3 item 3, §7.1)
    if (g.phb.model === 'IODA1' && g.kernelDma) {
      return fail(
        'EBUSY',
        `VFIO_GROUP_SET_CONTAINER: ${g.name}'s kernel table still has DMA mappings, the platform refuses to give it up when vfio_container_attach_group claims DMA ownership, before the driver (§7.1, §14.6) [derived]`,
        kernelIommu('iommu_take_ownership'),
      );
    }
    g.owner = 'vfio';
  }
  g.container = c.id;
  c.groups.unshift(g);
  k.changes.touchGroup(g);
  k.changes.touchContainer(c);
  if (c.driver) {
    const r = tceIommuAttachGroup(k, caller, c, g);
    if (r.ret !== 0) {
      c.groups.splice(c.groups.indexOf(g), 1);
      g.container = null;
      if (k.profile.ownershipTakenAt === 'set-container') g.owner = 'kernel';
      return {
        ret: r.ret,
        explain: `VFIO_GROUP_SET_CONTAINER: the driver refused ${g.name}: ${r.explain}`,
        cite: r.cite,
      };
    }
    return ok(
      `VFIO_GROUP_SET_CONTAINER: ${g.name} joined container ${c.id} and was attached to its sPAPR driver (§3 item 3)`,
      k.profile.src.containerAttachGroup,
    );
  }
  return ok(
    `VFIO_GROUP_SET_CONTAINER: ${g.name} is in container ${c.id}${k.profile.ownershipTakenAt === 'set-container' ? '; the PE was taken from the host kernel (§7.1)' : ''} (§3 item 3)`,
    k.profile.src.groupSetContainer,
  );
}

export function vfioGroupIoctlUnsetContainer(k: Kernel, caller: Proc, g: Group): Res {
  if (g.container === null)
    return fail(
      'EINVAL',
      `VFIO_GROUP_UNSET_CONTAINER: ${g.name} is not in a container (§3 item 4)`,
      k.profile.src.groupUnsetContainer,
    );
  if (g.devicesOpen > 0)
    return fail(
      'EBUSY',
      `VFIO_GROUP_UNSET_CONTAINER: ${g.devicesOpen} device fd(s) of ${g.name} are still open (§3 item 4)`,
      k.profile.src.groupUnsetContainer,
    );
  const c = k.containerById(g.container);
  vfioGroupDetachContainer(k, caller, c, g);
  return ok(
    `VFIO_GROUP_UNSET_CONTAINER: ${g.name} left container ${c.id}${c.driver ? '' : '; it was the last group, the driver was released'} (§3 item 4, §4.13)`,
    k.profile.src.groupUnsetContainer,
  );
}

export function vfioGroupIoctlGetDeviceFd(
  k: Kernel,
  p: Proc,
  g: Group,
  name: string | undefined,
): DeviceFile | Res<never> {
  if (g.container === null || !k.containerById(g.container).driver) {
    return fail(
      'EINVAL',
      `VFIO_GROUP_GET_DEVICE_FD: ${g.name} has no container with an IOMMU driver (§3)`,
      k.profile.src.groupGetDeviceFd,
    );
  }
  const dev = name ?? g.devices[0]!;
  if (!g.devices.includes(dev))
    return fail(
      'ENODEV',
      `VFIO_GROUP_GET_DEVICE_FD: no device ${dev} in ${g.name}`,
      k.profile.src.groupGetDeviceFd,
    );
  g.devicesOpen++;
  const f = new DeviceFile(p, g, dev);
  p.fds.push(f);
  k.changes.touchGroup(g);
  return f;
}

/** close(2) of any fd; `caller` is the closing process (matters for 4.2 accounting) */
export function closeFd(k: Kernel, caller: Proc, f: Fd): void {
  if (!f.open) return;
  f.open = false;
  if (f.kind === 'container') {
    const c = f.container;
    c.files--;
    k.changes.touchContainer(c);
    // §3 item 5: closing the fd only drops a reference while groups are attached
    if (c.files === 0 && c.groups.length === 0) vfioContainerRelease(k, c);
  } else if (f.kind === 'group') {
    f.group.fdOpen = false;
    k.changes.touchGroup(f.group);
    vfioGroupTryDissolveContainer(k, caller, f.group);
  } else {
    f.group.devicesOpen--;
    k.changes.touchGroup(f.group);
    vfioGroupTryDissolveContainer(k, caller, f.group);
  }
}

/** the group leaves its container once neither its fd nor a device fd is open (§3 item 4) */
export function vfioGroupTryDissolveContainer(k: Kernel, caller: Proc, g: Group): void {
  if (g.fdOpen || g.devicesOpen > 0 || g.container === null) return;
  const c = k.containerById(g.container);
  vfioGroupDetachContainer(k, caller, c, g);
}

export function vfioGroupDetachContainer(k: Kernel, caller: Proc, c: Container, g: Group): void {
  if (c.driver) tceIommuDetachGroup(k, caller, c, g);
  c.groups.splice(c.groups.indexOf(g), 1);
  g.container = null;
  if (k.profile.ownershipTakenAt === 'set-container') g.owner = 'kernel'; // core releases DMA ownership
  k.changes.touchGroup(g);
  k.changes.touchContainer(c);
  if (c.groups.length === 0) {
    if (c.driver) tceIommuRelease(k, caller, c);
    if (c.files === 0) vfioContainerRelease(k, c);
  }
}
