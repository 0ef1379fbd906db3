/**
 * Kernel profiles: models no kernel file; it holds the KVM files' era differences as data.
 * The KVM-side differences between the kernel profiles (kernel-model.md §13.0.1, §13.0.4), as data. The
 * profile object (profile.ts) carries these fields next to the VFIO ones; the KVM code reads
 * `profile.kvmX` and never compares kernel names.
 */

/** hcall numbers (asm/hvcall.h, §13.0.3) */
export const H_GET_TCE = 0x1c;
export const H_PUT_TCE = 0x20;
export const H_STUFF_TCE = 0x138;
export const H_PUT_TCE_INDIRECT = 0x13c;

/** KVM capability numbers (uapi/linux/kvm.h, §13.0.3) */
export const KVM_CAP_SPAPR_TCE = 63;
export const KVM_CAP_SPAPR_MULTITCE = 94;
export const KVM_CAP_PPC_ENABLE_HCALL = 104;
export const KVM_CAP_SPAPR_TCE_64 = 125;
export const KVM_CAP_SPAPR_TCE_VFIO = 142;

export interface KvmEra {
  /** §13.3 KVM_CHECK_EXTENSION answers for the sPAPR TCE capabilities (anything else answers 0) */
  readonly kvmCaps: Readonly<Record<number, number>>;
  /** §13.4.2 KVM_CREATE_SPAPR_TCE_64 exists (4.2: the request reaches the default case → ENOTTY) */
  readonly kvmTce64: boolean;
  /** §13.4.3 / §13.10.1 who pays for a KVM TCE table: nobody (≤4.5) or kvm->mm (≈5.6+, ML) */
  readonly kvmTceCharge: 'none' | 'kvm-mm';
  /** §13.4.1 step 1: size/page-shift/offset checks (4.2 validates nothing: window_size 0 is a table) */
  readonly kvmTceCreateChecks: boolean;
  /** §13.3 TCE hcalls KVM-HV implements in the kernel (ENABLE_HCALL of anything else → EINVAL) */
  readonly kvmInKernelTceHcalls: readonly number[];
  /**
   * §13.8.1 argument checks of the in-kernel handlers: 'window-bytes' = 4.2's `ioba >= window_size`
   * only, index ioba >> 12, no TCE check; 'ioba-tce' = aligned first-entry ioba check plus TCE validation.
   */
  readonly kvmHcallChecks: 'window-bytes' | 'ioba-tce';
  /** §13.6.3 KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE exists (v4.12+); without it the attribute is ENXIO */
  readonly kvmVfioSetSpaprTce: boolean;
  /** §13.6.2, §13.0.4: the kvm-vfio device takes a VFIO "external user" (container + IOMMU driver) */
  readonly kvmVfioExternalUser: boolean;
  /** §13.5: ML releases the kvm-vfio device when its fd closes; older kernels destroy it with the VM */
  readonly kvmVfioReleaseOnClose: boolean;
  /** §13.7 which in-kernel handler answers: real mode (POWER8, 4.2) or virtual mode (POWER9 5.x, ML) */
  readonly kvmHcallMode: 'real' | 'virtual';
  /** §13.10.3 mlock's limit test subtracts pages already VM_LOCKED (≈v4.9+) */
  readonly mlockSubtractsLocked: boolean;
}

export const KVM_ERA_4_2: KvmEra = {
  kvmCaps: {
    [KVM_CAP_SPAPR_TCE]: 1,
    [KVM_CAP_SPAPR_MULTITCE]: 0,
    [KVM_CAP_PPC_ENABLE_HCALL]: 1,
    [KVM_CAP_SPAPR_TCE_64]: 0,
    [KVM_CAP_SPAPR_TCE_VFIO]: 0,
  },
  kvmTce64: false,
  kvmTceCharge: 'none',
  kvmTceCreateChecks: false,
  kvmInKernelTceHcalls: [H_GET_TCE, H_PUT_TCE],
  kvmHcallChecks: 'window-bytes',
  kvmVfioSetSpaprTce: false,
  kvmVfioExternalUser: true,
  kvmVfioReleaseOnClose: false,
  kvmHcallMode: 'real',
  mlockSubtractsLocked: false,
};

const ALL_CAPS = {
  [KVM_CAP_SPAPR_TCE]: 1,
  [KVM_CAP_SPAPR_MULTITCE]: 1,
  [KVM_CAP_PPC_ENABLE_HCALL]: 1,
  [KVM_CAP_SPAPR_TCE_64]: 1,
  [KVM_CAP_SPAPR_TCE_VFIO]: 1,
};

export const KVM_ERA_5_X: KvmEra = {
  kvmCaps: ALL_CAPS,
  kvmTce64: true,
  kvmTceCharge: 'kvm-mm',
  kvmTceCreateChecks: true,
  kvmInKernelTceHcalls: [H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE],
  kvmHcallChecks: 'ioba-tce',
  kvmVfioSetSpaprTce: true,
  kvmVfioExternalUser: true,
  kvmVfioReleaseOnClose: false,
  kvmHcallMode: 'virtual',
  mlockSubtractsLocked: true,
};

export const KVM_ERA_MAINLINE: KvmEra = {
  ...KVM_ERA_5_X,
  kvmVfioExternalUser: false,
  kvmVfioReleaseOnClose: true,
};

/** scenario globals of scenario-api.md §2.1.1 (hcall results, hcall numbers, KVM capabilities) */
export const KVM_GLOBALS: Readonly<Record<string, number>> = {
  H_SUCCESS: 0,
  H_BUSY: 1,
  H_CLOSED: 2,
  H_HARDWARE: -1,
  H_FUNCTION: -2,
  H_PRIVILEGE: -3,
  H_PARAMETER: -4,
  H_TOO_HARD: 9999,
  H_GET_TCE,
  H_PUT_TCE,
  H_STUFF_TCE,
  H_PUT_TCE_INDIRECT,
  KVM_CAP_SPAPR_TCE,
  KVM_CAP_SPAPR_MULTITCE,
  KVM_CAP_PPC_ENABLE_HCALL,
  KVM_CAP_SPAPR_TCE_64,
  KVM_CAP_SPAPR_TCE_VFIO,
};
