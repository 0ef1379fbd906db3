/**
 * Engine infrastructure: models no kernel file; it names the kernel files and functions the others model.
 * Kernel-function cites: every result the engine explains names the kernel function that decides it, as
 * `<file>: <function>` (issue 7 item 4), and links to the project's own reference of that function in
 * docs/kernel/ (one page per kernel area, one heading per function). The file list below is closed: a
 * cite of a file not listed here is a compile error, and test/engine/cites.test.ts checks that every
 * cited function has its heading in the page this file maps it to.
 *
 * Where the deciding function or its file differs by era (the VFIO core split into group.c and
 * container.c, the pre-registration file rename, the accounting helper), the profile carries the cite
 * (`profile.src`, type EraSources) and the kernel files read it from there.
 */

/** every source file a cite may name, with the docs/kernel page that describes its functions */
export const KERNEL_FILES = {
  /** the ioctl system call itself: a closed fd is EBADF before any driver runs */
  'fs/ioctl.c': 'vfio-core',
  'drivers/vfio/vfio.c': 'vfio-core',
  'drivers/vfio/group.c': 'vfio-core',
  'drivers/vfio/container.c': 'vfio-core',
  'drivers/vfio/vfio_iommu_spapr_tce.c': 'spapr-tce',
  'arch/powerpc/mm/mmu_context_iommu.c': 'prereg',
  'arch/powerpc/mm/book3s64/iommu_api.c': 'prereg',
  'arch/powerpc/platforms/powernv/pci-ioda.c': 'powernv-tables',
  'arch/powerpc/platforms/powernv/pci-ioda-tce.c': 'powernv-tables',
  'arch/powerpc/kernel/iommu.c': 'iommu-eeh',
  'drivers/vfio/vfio_spapr_eeh.c': 'iommu-eeh',
  'mm/util.c': 'locked-vm',
  'mm/mlock.c': 'locked-vm',
  'arch/powerpc/kvm/powerpc.c': 'kvm',
  'arch/powerpc/kvm/book3s_64_vio.c': 'kvm',
  'arch/powerpc/kvm/book3s_64_vio_hv.c': 'kvm',
  'arch/powerpc/kvm/book3s_hv.c': 'kvm',
  'virt/kvm/vfio.c': 'kvm',
  'virt/kvm/kvm_main.c': 'kvm',
  /** QEMU, not the kernel: the hypercalls KVM leaves to userspace (kernel-model.md §13.9.2) */
  'hw/ppc/spapr_iommu.c': 'kvm',
  'hw/ppc/spapr_hcall.c': 'kvm',
} as const;

export type KernelFile = keyof typeof KERNEL_FILES;
export type DocPage = (typeof KERNEL_FILES)[KernelFile];

/**
 * Functions documented on another page than their file's: the 4.2 accounting helpers, which live in the
 * driver and the pre-registration file but are the locked_vm rules of their era, and mainline's EEH
 * handler, which moved into the driver but is described with the rest of EEH.
 */
const FUNCTION_PAGE: Readonly<Record<string, DocPage>> = {
  vfio_spapr_ioctl_eeh_pe_op: 'iommu-eeh',
  try_increment_locked_vm: 'locked-vm',
  decrement_locked_vm: 'locked-vm',
  mm_iommu_adjust_locked_vm: 'locked-vm',
};

/** the kernel function that decides a result */
export interface Cite {
  readonly file: KernelFile;
  readonly fn: string;
}

export function cite(file: KernelFile, fn: string): Cite {
  return { file, fn };
}

/** `drivers/vfio/vfio_iommu_spapr_tce.c: tce_iommu_register_pages` */
export function citeText(c: Cite): string {
  return `${c.file}: ${c.fn}`;
}

export function docPageOf(c: { file: string; fn: string }): DocPage | undefined {
  return FUNCTION_PAGE[c.fn] ?? (KERNEL_FILES as Record<string, DocPage>)[c.file];
}

/** the heading anchor of a function on its page (GitHub's rule keeps lowercase letters, digits, _ and -) */
export function docAnchor(fn: string): string {
  return fn.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

/** `docs/kernel/spapr-tce.md#tce_iommu_register_pages`, or undefined for a file outside the list */
export function docPath(c: { file: string; fn: string }): string | undefined {
  const page = docPageOf(c);
  return page ? `docs/kernel/${page}.md#${docAnchor(c.fn)}` : undefined;
}

/** the why as users read it: the rule, then the function that decides it (once) */
export function whyText(explain: string, c: Cite | undefined): string {
  if (!c) return explain;
  const t = citeText(c);
  return explain.includes(t) ? explain : `${explain} — ${t}`;
}

// ------------------------------------------------------------------------------------------------
// per-file shorthands for the engine's kernel files

/** the ioctl(2) entry: an fd that is not open is EBADF before any handler runs */
export const SYS_IOCTL: Cite = { file: 'fs/ioctl.c', fn: 'sys_ioctl' };
export const tce = (fn: string): Cite => cite('drivers/vfio/vfio_iommu_spapr_tce.c', fn);
export const kernelIommu = (fn: string): Cite => cite('arch/powerpc/kernel/iommu.c', fn);
export const pciIoda = (fn: string): Cite => cite('arch/powerpc/platforms/powernv/pci-ioda.c', fn);
export const pciIodaTce = (fn: string): Cite => cite('arch/powerpc/platforms/powernv/pci-ioda-tce.c', fn);
export const kvmVio = (fn: string): Cite => cite('arch/powerpc/kvm/book3s_64_vio.c', fn);
export const kvmPowerpc = (fn: string): Cite => cite('arch/powerpc/kvm/powerpc.c', fn);
export const kvmMain = (fn: string): Cite => cite('virt/kvm/kvm_main.c', fn);
export const kvmHv = (fn: string): Cite => cite('arch/powerpc/kvm/book3s_hv.c', fn);
export const mmMlock = (fn: string): Cite => cite('mm/mlock.c', fn);
export const qemuIommu = (fn: string): Cite => cite('hw/ppc/spapr_iommu.c', fn);

/**
 * The cites whose file or function differs by era (kernel-model.md §0.1 history, §13.0.1, §14.0). A
 * profile holds one of these; the kernel files read `k.profile.src.x`.
 */
export interface EraSources {
  // VFIO core (drivers/vfio/vfio.c until ~6.2; then group.c and container.c)
  readonly groupOpen: Cite;
  readonly groupGetStatus: Cite;
  readonly groupSetContainer: Cite;
  readonly groupUnsetContainer: Cite;
  readonly groupGetDeviceFd: Cite;
  /** the group fd's ioctl entry: unknown requests, closed fds */
  readonly groupIoctl: Cite;
  /** the container fd's ioctl entry: requests passed to the IOMMU driver, EINVAL without one */
  readonly containerIoctl: Cite;
  readonly checkExtension: Cite;
  readonly setIommu: Cite;
  /** where SET_CONTAINER hands the group to the container (ML: vfio_container_attach_group) */
  readonly containerAttachGroup: Cite;
  /** the external-user lookup the kvm-vfio device makes (4.x/5.x) */
  readonly groupExternalUser: Cite;
  // memory pre-registration (arch/powerpc/mm/mmu_context_iommu.c in 4.2, book3s64/iommu_api.c later)
  readonly mmIommuAlloc: Cite;
  readonly mmIommuPut: Cite;
  readonly mmIommuFind: Cite;
  // locked_vm accounting (§1.5): the driver's table/ENABLE charge and the region charge
  readonly driverCharge: Cite;
  readonly regionCharge: Cite;
  // the MAP/UNMAP parameter checks: functions of arch/powerpc/kernel/iommu.c in 4.2; OR'ed macros of
  // asm/iommu.h later, whose value tce_iommu_ioctl returns as is (the +1 of §4.6.2)
  readonly putParamCheck: Cite;
  readonly clearParamCheck: Cite;
  // PowerNV table allocation (arch/powerpc/platforms/powernv/pci-ioda.c in 4.x, pci-ioda-tce.c since ~4.19):
  // the level/address-bit checks, and the allocation of one level (ENOMEM above the largest block, §14.3)
  readonly tableAllocPages: Cite;
  readonly tableAllocLevel: Cite;
  // EEH (drivers/vfio/vfio_spapr_eeh.c until ~6.2, then inside the sPAPR driver)
  readonly eehPeOp: Cite;
  // KVM: the kvm-vfio device's group attribute handler, the in-kernel TCE hypercall handlers
  readonly kvmVfioAdd: Cite;
  readonly kvmVfioDel: Cite;
  readonly kvmVfioSetSpaprTce: Cite;
  readonly kvmVfioSetAttr: Cite;
  readonly hPutTce: Cite;
  readonly hGetTce: Cite;
  readonly hPutTceIndirect: Cite;
  readonly hStuffTce: Cite;
}

const VFIO_4X = 'drivers/vfio/vfio.c';
const MM_42 = 'arch/powerpc/mm/mmu_context_iommu.c';
const MM_5X = 'arch/powerpc/mm/book3s64/iommu_api.c';

/** 4.2 (a 4.4.y tree): one vfio.c, mmu_context_iommu.c, the driver's own accounting helpers, real-mode hcalls */
export const SOURCES_4_2: EraSources = {
  groupOpen: cite(VFIO_4X, 'vfio_group_fops_open'),
  groupGetStatus: cite(VFIO_4X, 'vfio_group_fops_unl_ioctl'),
  groupSetContainer: cite(VFIO_4X, 'vfio_group_set_container'),
  groupUnsetContainer: cite(VFIO_4X, 'vfio_group_unset_container'),
  groupGetDeviceFd: cite(VFIO_4X, 'vfio_group_get_device_fd'),
  groupIoctl: cite(VFIO_4X, 'vfio_group_fops_unl_ioctl'),
  containerIoctl: cite(VFIO_4X, 'vfio_fops_unl_ioctl'),
  checkExtension: cite(VFIO_4X, 'vfio_ioctl_check_extension'),
  setIommu: cite(VFIO_4X, 'vfio_ioctl_set_iommu'),
  containerAttachGroup: cite(VFIO_4X, 'vfio_group_set_container'),
  groupExternalUser: cite(VFIO_4X, 'vfio_group_get_external_user'),
  mmIommuAlloc: cite(MM_42, 'mm_iommu_get'),
  mmIommuPut: cite(MM_42, 'mm_iommu_put'),
  mmIommuFind: cite(MM_42, 'mm_iommu_find'),
  driverCharge: tce('try_increment_locked_vm'),
  regionCharge: cite(MM_42, 'mm_iommu_adjust_locked_vm'),
  putParamCheck: kernelIommu('iommu_tce_put_param_check'),
  clearParamCheck: kernelIommu('iommu_tce_clear_param_check'),
  tableAllocPages: pciIoda('pnv_pci_ioda2_table_alloc_pages'),
  tableAllocLevel: pciIoda('pnv_pci_ioda2_table_alloc_pages'),
  eehPeOp: cite('drivers/vfio/vfio_spapr_eeh.c', 'vfio_spapr_iommu_eeh_ioctl'),
  kvmVfioAdd: cite('virt/kvm/vfio.c', 'kvm_vfio_set_group'),
  kvmVfioDel: cite('virt/kvm/vfio.c', 'kvm_vfio_set_group'),
  kvmVfioSetSpaprTce: cite('virt/kvm/vfio.c', 'kvm_vfio_set_group'),
  kvmVfioSetAttr: cite('virt/kvm/vfio.c', 'kvm_vfio_set_group'),
  hPutTce: cite('arch/powerpc/kvm/book3s_64_vio_hv.c', 'kvmppc_h_put_tce'),
  hGetTce: cite('arch/powerpc/kvm/book3s_64_vio_hv.c', 'kvmppc_h_get_tce'),
  // not handled in this kernel: the dispatcher passes them to userspace
  hPutTceIndirect: kvmHv('kvmppc_pseries_do_hcall'),
  hStuffTce: kvmHv('kvmppc_pseries_do_hcall'),
};

/** 5.x (≈v5.8–v5.15): still one vfio.c; iommu_api.c and mm/util.c accounting; virtual-mode hcalls */
export const SOURCES_5_X: EraSources = {
  ...SOURCES_4_2,
  mmIommuAlloc: cite(MM_5X, 'mm_iommu_do_alloc'),
  mmIommuPut: cite(MM_5X, 'mm_iommu_put'),
  mmIommuFind: cite(MM_5X, 'mm_iommu_get'),
  driverCharge: cite('mm/util.c', '__account_locked_vm'),
  regionCharge: cite('mm/util.c', '__account_locked_vm'),
  putParamCheck: tce('tce_iommu_ioctl'),
  clearParamCheck: tce('tce_iommu_ioctl'),
  tableAllocPages: pciIodaTce('pnv_pci_ioda2_table_alloc_pages'),
  tableAllocLevel: pciIodaTce('pnv_alloc_tce_level'),
  kvmVfioSetSpaprTce: cite('virt/kvm/vfio.c', 'kvm_vfio_set_group'),
  hPutTce: kvmVio('kvmppc_h_put_tce'),
  hGetTce: kvmVio('kvmppc_h_get_tce'),
  hPutTceIndirect: kvmVio('kvmppc_h_put_tce_indirect'),
  hStuffTce: kvmVio('kvmppc_h_stuff_tce'),
};

/** mainline (≥ ~v6.10): group.c and container.c, EEH in the driver, kvm-vfio takes files */
export const SOURCES_MAINLINE: EraSources = {
  ...SOURCES_5_X,
  groupOpen: cite('drivers/vfio/group.c', 'vfio_group_fops_open'),
  groupGetStatus: cite('drivers/vfio/group.c', 'vfio_group_ioctl_get_status'),
  groupSetContainer: cite('drivers/vfio/group.c', 'vfio_group_ioctl_set_container'),
  groupUnsetContainer: cite('drivers/vfio/group.c', 'vfio_group_ioctl_unset_container'),
  groupGetDeviceFd: cite('drivers/vfio/group.c', 'vfio_group_ioctl_get_device_fd'),
  groupIoctl: cite('drivers/vfio/group.c', 'vfio_group_fops_unl_ioctl'),
  containerIoctl: cite('drivers/vfio/container.c', 'vfio_fops_unl_ioctl'),
  checkExtension: cite('drivers/vfio/container.c', 'vfio_container_ioctl_check_extension'),
  setIommu: cite('drivers/vfio/container.c', 'vfio_ioctl_set_iommu'),
  containerAttachGroup: cite('drivers/vfio/container.c', 'vfio_container_attach_group'),
  groupExternalUser: cite('virt/kvm/vfio.c', 'kvm_vfio_file_add'),
  eehPeOp: tce('vfio_spapr_ioctl_eeh_pe_op'),
  kvmVfioAdd: cite('virt/kvm/vfio.c', 'kvm_vfio_file_add'),
  kvmVfioDel: cite('virt/kvm/vfio.c', 'kvm_vfio_file_del'),
  kvmVfioSetSpaprTce: cite('virt/kvm/vfio.c', 'kvm_vfio_file_set_spapr_tce'),
  kvmVfioSetAttr: cite('virt/kvm/vfio.c', 'kvm_vfio_set_file'),
};
