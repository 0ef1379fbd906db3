/**
 * The emulated twin of virt/kvm/vfio.c (kernel-model.md §13.6, `KVFIO`, `KVFIO-4X`): the kvm-vfio pseudo
 * device, its VFIO group list, and KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE, which links a KVM TCE table to the
 * VFIO hardware window it feeds.
 */
import { cite, kvmVio } from '../cite.ts';
import type { Container } from '../vfio-container.ts';
import type { Group } from '../pci-ioda.ts';
import type { TceTable } from '../tce-table.ts';
import { attachIommuGroup, releaseIommuGroup, type KvmTceTable } from './book3s-64-vio.ts';
import type { KRes, KvmVm } from './kvm-main.ts';

const EBADF = -9;
const EINVAL = -22;
const ENOENT = -2;
const EEXIST = -17;
const EBUSY = -16;
const ENXIO = -6;

export class KvmVfioDevice {
  open = true;
  released = false;
  /** the VFIO group files added (GROUP_ADD) */
  readonly groups: Group[] = [];
  constructor(readonly vm: KvmVm) {}
}

/** KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO) (`KVFIO:kvm_vfio_create`, §13.6.1): one per VM */
export function createVfioDevice(vm: KvmVm): KRes<{ device: KvmVfioDevice }> {
  if (vm.device)
    return {
      ret: EBUSY,
      explain: 'KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO): this VM already has a kvm-vfio device (EBUSY, §13.6.1)',
      cite: cite('virt/kvm/vfio.c', 'kvm_vfio_create'),
    };
  const d = new KvmVfioDevice(vm);
  vm.device = d;
  vm.get(); // the device fd holds a VM reference
  if (!vm.profile.kvmVfioReleaseOnClose) vm.onDestroy = () => releaseDevice(d);
  return {
    ret: 0,
    explain: 'kvm-vfio device created; no locked_vm change (§13.6.1)',
    out: { device: d },
    cite: cite('virt/kvm/vfio.c', 'kvm_vfio_create'),
  };
}

/** the group file as the device sees it: open or not (a closed GroupFd is an fd that is not open) */
export interface GroupFileRef {
  group: Group;
  open: boolean;
}

/** VFIO "external user" (4.2, 5.x): the group must be in a container whose IOMMU driver is set */
function externalUser(vm: KvmVm, g: Group, op: string): KRes | null {
  if (!vm.profile.kvmVfioExternalUser) return null;
  const c = vm.kvm.host.containerOf(g);
  if (c && c.driver) return null;
  return {
    ret: EINVAL,
    explain: `${op}: ${g.name} is ${c ? 'in a container without an IOMMU driver (no VFIO_SET_IOMMU yet)' : 'in no container'}: vfio_group_get_external_user refuses it (EINVAL, §13.6.2, §13.0.4)`,
    cite: vm.profile.src.groupExternalUser,
  };
}

/** KVM_DEV_VFIO_GROUP_ADD (§13.6.2) */
export function groupAdd(d: KvmVfioDevice, f: GroupFileRef): KRes {
  const op = 'KVM_DEV_VFIO_GROUP_ADD';
  if (!f.open)
    return {
      ret: EBADF,
      explain: `${op}: the group fd is not open (EBADF)`,
      cite: d.vm.profile.src.kvmVfioAdd,
    };
  const x = externalUser(d.vm, f.group, op);
  if (x) return x;
  if (d.groups.includes(f.group))
    return {
      ret: EEXIST,
      explain: `${op}: ${f.group.name} was already added to this device (EEXIST, §13.6.2)`,
      cite: d.vm.profile.src.kvmVfioAdd,
    };
  d.groups.push(f.group);
  return {
    ret: 0,
    explain: `${op}: ${f.group.name} added to the kvm-vfio device${d.vm.profile.kvmVfioExternalUser ? '' : ' (no container or IOMMU type is required)'} (§13.6.2)`,
    cite: d.vm.profile.src.kvmVfioAdd,
  };
}

/** the hardware tables of a group's PE (its table_group->tables[]): the windows programmed into it */
function peWindows(vm: KvmVm, g: Group): { container: Container; slot: number; table: TceTable }[] {
  const c = vm.kvm.host.containerOf(g);
  if (!c) return [];
  const out: { container: Container; slot: number; table: TceTable }[] = [];
  for (let s = 0; s < 2; s++) {
    const t = c.tables[s];
    if (t && g.programmed[s] === t.id && !t.borrowed) out.push({ container: c, slot: s, table: t });
  }
  return out;
}

/** KVM_DEV_VFIO_GROUP_DEL (§13.6.2): the group's links lose one reference each */
export function groupDel(d: KvmVfioDevice, f: GroupFileRef): KRes {
  const op = 'KVM_DEV_VFIO_GROUP_DEL';
  if (!f.open)
    return {
      ret: EBADF,
      explain: `${op}: the group fd is not open (EBADF)`,
      cite: d.vm.profile.src.kvmVfioDel,
    };
  const x = externalUser(d.vm, f.group, op);
  if (x) return x;
  const i = d.groups.indexOf(f.group);
  if (i < 0)
    return {
      ret: ENOENT,
      explain: `${op}: ${f.group.name} was not added to this device (ENOENT, §13.6.2)`,
      cite: d.vm.profile.src.kvmVfioDel,
    };
  d.groups.splice(i, 1);
  const dropped = releaseIommuGroup(
    d.vm,
    peWindows(d.vm, f.group).map((w) => w.table),
  );
  return {
    ret: 0,
    explain: `${op}: ${f.group.name} removed${dropped ? `; ${dropped} link reference(s) to its hardware tables dropped (kvm_spapr_tce_release_iommu_group)` : ''} (§13.6.2)`,
    cite: d.vm.profile.src.kvmVfioDel,
  };
}

/** KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE (§13.6.3); `table` null = a tablefd that is not a KVM table */
export function setSpaprTce(d: KvmVfioDevice, f: GroupFileRef, table: KvmTceTable): KRes {
  const op = 'KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE';
  const vm = d.vm;
  if (!vm.profile.kvmVfioSetSpaprTce)
    return {
      ret: ENXIO,
      explain: `${op}: this kernel's kvm-vfio device knows only GROUP_ADD and GROUP_DEL; an unknown attribute is ENXIO: KVM tables cannot be linked to VFIO (§13.6.3 4.2)`,
      cite: vm.profile.src.kvmVfioSetAttr,
    };
  if (!f.open)
    return {
      ret: EBADF,
      explain: `${op}: groupfd is not open (EBADF, §13.6.3 step 1)`,
      cite: vm.profile.src.kvmVfioSetSpaprTce,
    };
  const x = externalUser(vm, f.group, op);
  if (x) return x;
  if (!d.groups.includes(f.group))
    return {
      ret: ENOENT,
      explain: `${op}: ${f.group.name} was not added to this device (ENOENT, §13.6.3 step 2)`,
      cite: vm.profile.src.kvmVfioSetSpaprTce,
    };
  if (!table.open)
    return {
      ret: EBADF,
      explain: `${op}: tablefd is not open (EBADF, §13.6.3 step 4)`,
      cite: kvmVio('kvm_spapr_tce_attach_iommu_group'),
    };
  if (table.vm !== vm)
    return {
      ret: EINVAL,
      explain: `${op}: the table belongs to another VM (EINVAL, §13.6.3 step 4)`,
      cite: kvmVio('kvm_spapr_tce_attach_iommu_group'),
    };
  return attachIommuGroup(table, peWindows(vm, f.group));
}

/** kvm_vfio_release / .destroy (§13.5): every group's links dropped as for GROUP_DEL */
export function releaseDevice(d: KvmVfioDevice): number {
  if (d.released) return 0;
  d.released = true;
  let dropped = 0;
  for (const g of d.groups)
    dropped += releaseIommuGroup(
      d.vm,
      peWindows(d.vm, g).map((w) => w.table),
    );
  d.groups.length = 0;
  return dropped;
}

/** close of the device fd: ML releases now; older kernels when the VM is destroyed */
export function closeVfioDevice(d: KvmVfioDevice): string {
  if (!d.open) return 'already closed';
  d.open = false;
  let text = 'kvm-vfio device fd closed';
  if (d.vm.profile.kvmVfioReleaseOnClose) {
    const n = releaseDevice(d);
    if (d.vm.device === d) d.vm.device = null; // kvm_device_release takes it off the VM's list
    text += `: released${n ? `, ${n} link reference(s) dropped` : ''} (kvm_vfio_release, §13.5)`;
  } else text += '; this kernel destroys the device with the VM (§13.5)';
  d.vm.put();
  return text;
}
