/**
 * Models drivers/vfio/container.c (drivers/vfio/vfio.c before ~6.2): the container fd — open, the
 * VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION and VFIO_SET_IOMMU ioctls, and the container's release
 * (kernel-model.md §3 items 1, 2, 5; §4.1).
 */
import type { Kernel, Proc } from './kernel.ts';
import type { Mm, Region } from './memory.ts';
import type { Group } from './pci-ioda.ts';
import type { TceTable } from './tce-table.ts';
import { type Res, fail, ok } from './result.ts';
import { tce } from './cite.ts';
import { tceIommuAttachGroup, tceIommuDetachGroup, tceIommuRelease } from './spapr-tce.ts';

/** struct vfio_container with the sPAPR driver's struct tce_container (kernel-model.md §1.3) */
export class Container {
  /** open container fds across all processes */
  files = 0;
  /** VFIO core group list (vfio_container->group_list) */
  readonly groups: Group[] = [];
  driver: 'spapr' | null = null;
  v2 = false;
  enabled = false;
  /** v1: pages charged by ENABLE */
  lockedPages = 0;
  readonly tables: (TceTable | null)[] = [null, null];
  /** sPAPR driver group list, newest first: "first group" = most recently attached (Q12) */
  readonly attached: Group[] = [];
  defWindowPending = false;
  /** mainline: container->mm */
  mm: Mm | null = null;
  /** mainline: prereg_list */
  readonly prereg = new Set<Region>();
  /** the kernel object is gone: no fd and no group refers to it */
  dead = false;

  constructor(readonly id: number) {}

  get firstGroup(): Group | undefined {
    return this.attached[0];
  }
}

/** an open container fd (/dev/vfio/vfio) */
export class ContainerFile {
  readonly kind = 'container';
  open = true;
  constructor(
    readonly proc: Proc,
    readonly container: Container,
  ) {}
}

export function vfioFopsOpen(k: Kernel, p: Proc): ContainerFile {
  const c = new Container(k.ids.next('container'));
  k.containers.push(c);
  c.files = 1;
  const f = new ContainerFile(p, c);
  p.fds.push(f);
  k.changes.touchContainer(c);
  return f;
}

export function vfioFileDup(k: Kernel, p: Proc, from: ContainerFile): ContainerFile {
  const f = new ContainerFile(p, from.container);
  from.container.files++;
  p.fds.push(f);
  k.changes.touchContainer(from.container);
  return f;
}

export function vfioGetApiVersion(k: Kernel): Res {
  return ok('VFIO_API_VERSION is 0 (§4.1)', k.profile.src.containerIoctl);
}

export function vfioIoctlCheckExtension(k: Kernel, ext: number): Res {
  // §4.1: answered by the sPAPR driver, before any cross-mm check; never an error
  const c = tce('tce_iommu_ioctl');
  if (ext === 2) return { ret: 1, explain: 'VFIO_SPAPR_TCE_IOMMU (v1) is supported (§4.1)', cite: c };
  if (ext === 7) return { ret: 1, explain: 'VFIO_SPAPR_TCE_v2_IOMMU is supported since 4.2 (§4.1)', cite: c };
  if (ext === 5)
    return {
      ret: k.eeh ? 1 : 0,
      explain: `VFIO_EEH: the host has EEH ${k.eeh ? 'enabled' : 'disabled'} (§4.1)`,
      cite: c,
    };
  return ok(`extension ${ext} is not offered by the sPAPR TCE driver (§4.1)`, c);
}

export function vfioIoctlSetIommu(k: Kernel, caller: Proc, c: Container, type: number): Res {
  // §3 item 2
  if (c.groups.length === 0)
    return fail(
      'EINVAL',
      'VFIO_SET_IOMMU: the container has no group yet (§3 item 2)',
      k.profile.src.setIommu,
    );
  if (c.driver)
    return fail(
      'EINVAL',
      'VFIO_SET_IOMMU: the container already has an IOMMU driver (§3 item 2)',
      k.profile.src.setIommu,
    );
  // only drivers answering CHECK_EXTENSION(type) > 0 are tried; the sPAPR driver's open then accepts
  // only types 2 and 7 (so VFIO_EEH = 5 on an EEH host reaches open and fails there with EINVAL)
  if (vfioIoctlCheckExtension(k, type).ret <= 0)
    return fail(
      'ENODEV',
      `VFIO_SET_IOMMU: no IOMMU driver claims type ${type} (§3 item 2)`,
      k.profile.src.setIommu,
    );
  if (type !== 2 && type !== 7)
    return fail(
      'EINVAL',
      `VFIO_SET_IOMMU: the sPAPR driver answers CHECK_EXTENSION(${type}) but its open accepts only types 2 and 7 (§3 item 2)`,
      tce('tce_iommu_open'),
    );
  c.driver = 'spapr';
  c.v2 = type === 7;
  k.changes.touchContainer(c);
  // attach every group already in the container, in list order (newest first)
  const done: Group[] = [];
  for (const g of [...c.groups]) {
    const r = tceIommuAttachGroup(k, caller, c, g);
    if (r.ret !== 0) {
      for (const d of done) tceIommuDetachGroup(k, caller, c, d);
      tceIommuRelease(k, caller, c);
      return {
        ret: r.ret,
        explain: `VFIO_SET_IOMMU(${type}): attaching ${g.name} failed: ${r.explain}`,
        cite: r.cite,
      };
    }
    done.push(g);
  }
  return ok(
    `VFIO_SET_IOMMU(${type}): sPAPR TCE ${c.v2 ? 'v2' : 'v1'} driver attached to ${done.map((g) => g.name).join(', ')} (§3 item 2, §4.2)`,
    k.profile.src.setIommu,
  );
}

export function vfioContainerRelease(k: Kernel, c: Container): void {
  c.dead = true;
  k.changes.touchContainer(c);
}
