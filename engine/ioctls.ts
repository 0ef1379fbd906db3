/**
 * Models the ioctl numbers of include/uapi/linux/vfio.h.
 * ioctl request numbers (kernel-model.md §2.2): _IO(';', 100 + n). Both the asm-generic encoding and the
 * powerpc one (_IOC_NONE = 1 in the direction field at bit 29) are accepted by the raw ioctl() form.
 */

export const IOCTL_NAMES = [
  'VFIO_GET_API_VERSION', // 0
  'VFIO_CHECK_EXTENSION', // 1
  'VFIO_SET_IOMMU', // 2
  'VFIO_GROUP_GET_STATUS', // 3
  'VFIO_GROUP_SET_CONTAINER', // 4
  'VFIO_GROUP_UNSET_CONTAINER', // 5
  'VFIO_GROUP_GET_DEVICE_FD', // 6
  'VFIO_DEVICE_GET_INFO', // 7
  'VFIO_DEVICE_GET_REGION_INFO', // 8
  'VFIO_DEVICE_GET_IRQ_INFO', // 9
  'VFIO_DEVICE_SET_IRQS', // 10
  'VFIO_DEVICE_RESET', // 11
  'VFIO_IOMMU_SPAPR_TCE_GET_INFO', // 12 (same number as VFIO_IOMMU_GET_INFO)
  'VFIO_IOMMU_MAP_DMA', // 13
  'VFIO_IOMMU_UNMAP_DMA', // 14
  'VFIO_IOMMU_ENABLE', // 15
  'VFIO_IOMMU_DISABLE', // 16
  'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', // 17
  'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', // 18
  'VFIO_IOMMU_SPAPR_TCE_CREATE', // 19
  'VFIO_IOMMU_SPAPR_TCE_REMOVE', // 20
  'VFIO_EEH_PE_OP', // 21
] as const;

export type IoctlName = (typeof IOCTL_NAMES)[number];

const VFIO_BASE = 0x3b00 + 100;
const IOC_NONE_POWERPC = 0x20000000;

export function ioctlNumber(name: IoctlName, powerpc = true): number {
  const n = IOCTL_NAMES.indexOf(name);
  return (powerpc ? IOC_NONE_POWERPC : 0) + VFIO_BASE + n;
}

/** the uAPI name of a request given by name or by number (generic or powerpc), or null if unknown */
export function ioctlByRequest(request: string | number): IoctlName | null {
  if (typeof request === 'string') {
    if (request === 'VFIO_IOMMU_GET_INFO') return 'VFIO_IOMMU_SPAPR_TCE_GET_INFO';
    return (IOCTL_NAMES as readonly string[]).includes(request) ? (request as IoctlName) : null;
  }
  const base = request >= IOC_NONE_POWERPC ? request - IOC_NONE_POWERPC : request;
  const n = base - VFIO_BASE;
  return n >= 0 && n < IOCTL_NAMES.length ? IOCTL_NAMES[n]! : null;
}
