/**
 * Kernel profiles: models no kernel file; it holds the era differences of the files the others model.
 * Kernel behaviour profiles (kernel-model.md §0.1). Every difference between the eras that the engine
 * models is decided here, as data, so the kernel files read `profile.x` instead of comparing kernel names.
 * Algorithms that differ wholesale (attach, register, unregister) are selected by the small enums below
 * and implemented side by side: attach in spapr-tce.ts (tce_iommu_attach_group), register and unregister
 * in spapr-tce-prereg.ts (tce_iommu_register_pages, tce_iommu_unregister_pages).
 */
import type { KernelName } from './api.ts';
import { SOURCES_4_2, SOURCES_5_X, SOURCES_MAINLINE, type EraSources } from './cite.ts';
import { KVM_ERA_4_2, KVM_ERA_5_X, KVM_ERA_MAINLINE, type KvmEra } from './kvm/era.ts';

/** KvmEra: the KVM side's differences (kvm/era.ts, kernel-model.md §13.0.1, §13.0.4) */
export interface Profile extends KvmEra {
  readonly name: KernelName;

  // §1.1 IODA2 pgsizes when the PHB does not say: 4.2 = 4K|64K|16M; mainline without a device-tree
  // property = 4K|64K plus 16M|256M on POWER8 (TCEML:pnv_ioda_parse_tce_sizes).
  readonly defaultPgsizes: bigint;
  // §1.1 IODA1 (non-DDW) groups: 4.2 has no table-group ops (VFIO borrows the kernel table);
  // mainline (~6.4+) gives them "borrowing" ops with max_dynamic_windows_supported = 0 and 4 KiB pages.
  readonly ioda1HasOps: boolean;

  // §1.5 which mm a charge goes to, and how decrements behave.
  readonly accountTo: 'current' | 'container';
  readonly decrementClampsAtZero: boolean;
  // §3 item 7 — mainline refuses ioctls from a process other than the container's mm owner.
  readonly crossMmEperm: boolean;

  // §7.1 when the PE is taken from the host kernel.
  readonly ownershipTakenAt: 'driver-attach' | 'set-container';
  // §4.2 attach rules (which group/type combinations are refused, and with what); with them the default
  // 32-bit window: 4.2 creates it at attach, 5.x and mainline defer it (def_window_pending, §7.3).
  readonly attachRules: '4.2' | '5.x' | 'mainline';
  // §4.2 4.2 item 4 — taking a group without ops charges the borrowed table's userspace view (4.2 only).
  readonly borrowedViewCharged: boolean;
  // §14.4 (D8) — SET_CONTAINER tests "group already in a container" (EINVAL) before the fd (EBADF): 4.x/5.x.
  readonly setContainerGroupTestFirst: boolean;

  // §4.6.2 / Q1 — misaligned IOVA: -EINVAL (4.2) or the +1 return of the OR'ed param-check macro.
  readonly misalignedIovaRet: 'EINVAL' | 'PLUS_ONE';
  // §4.7 — 4.2 checks that the whole UNMAP range lies in the window; mainline checks the first page only.
  readonly unmapChecksWholeRange: boolean;
  // §1.2 / Q14 — pnv_tce_xchg forces READ whenever WRITE is set (mainline and 5.x; not the 4.2-era
  // exchange).
  readonly forceReadWithWrite: boolean;

  // §4.8 registration: 4.2 tests overlap before charging; mainline charges, pins, then tests overlap.
  readonly register: '4.2' | 'mainline';
  // §4.9 unregistration: 4.2 EBUSY on a mapped region; mainline orphans it and returns 0 (Q3).
  readonly unregister: '4.2' | 'mainline';
  // §4.13 / §5.6 — mainline containers put their prereg_list regions at release; 4.2 leaves them to the mm.
  readonly releasePutsRegions: boolean;
  // §4.13 / Q9 — mainline clears every TCE of the container when any group is detached.
  readonly detachClearsTces: boolean;

  // §5.2 get_table_size: mainline returns twice the table bytes (table + userspace copy).
  readonly tableSizeFactor: 1 | 2;
  // §5.1 — 4.2 charges the v2 userspace view (it_userspace) separately from the table.
  readonly separateViewCharge: boolean;
  // §5.2 step 1 — 4.2 refuses windows larger than host RAM.
  readonly windowLimitedByRam: boolean;
  // §4.10 step 8 — platform limit (level_shift - 3) * levels + page_shift must stay below this.
  readonly platformAddressBits: number;
  // §4.10 / Q4 — mainline does not return the table charge when the platform create fails.
  readonly createLeaksChargeOnPlatformFailure: boolean;

  // §4.12 — VFIO_EEH_PE_OP_INJECT_ERR (op 9): not in the 4.2 driver; 5.x and mainline have it (see
  // PROFILE_5X).
  readonly eehInjectErr: boolean;

  // the kernel functions whose file or name differs by era, for the cites of every why (cite.ts)
  readonly src: EraSources;
}

export const PROFILE_4_2: Profile = {
  name: '4.2',
  defaultPgsizes: 0x1011000n,
  ioda1HasOps: false,
  accountTo: 'current',
  decrementClampsAtZero: true,
  crossMmEperm: false,
  ownershipTakenAt: 'driver-attach',
  attachRules: '4.2',
  borrowedViewCharged: true,
  setContainerGroupTestFirst: true,
  misalignedIovaRet: 'EINVAL',
  unmapChecksWholeRange: true,
  forceReadWithWrite: false,
  register: '4.2',
  unregister: '4.2',
  releasePutsRegions: false,
  detachClearsTces: false,
  tableSizeFactor: 1,
  separateViewCharge: true,
  windowLimitedByRam: true,
  platformAddressBits: 60,
  createLeaksChargeOnPlatformFailure: false,
  eehInjectErr: false,
  src: SOURCES_4_2,
  ...KVM_ERA_4_2,
};

export const PROFILE_MAINLINE: Profile = {
  name: 'mainline',
  defaultPgsizes: 0x11011000n,
  ioda1HasOps: true,
  accountTo: 'container',
  decrementClampsAtZero: false,
  crossMmEperm: true,
  ownershipTakenAt: 'set-container',
  attachRules: 'mainline',
  borrowedViewCharged: false,
  setContainerGroupTestFirst: false,
  misalignedIovaRet: 'PLUS_ONE',
  unmapChecksWholeRange: false,
  forceReadWithWrite: true,
  register: 'mainline',
  unregister: 'mainline',
  releasePutsRegions: true,
  detachClearsTces: true,
  tableSizeFactor: 2,
  separateViewCharge: false,
  windowLimitedByRam: false,
  platformAddressBits: 55,
  createLeaksChargeOnPlatformFailure: true,
  eehInjectErr: true,
  src: SOURCES_MAINLINE,
  ...KVM_ERA_MAINLINE,
};

/**
 * The ≈v5.8–v5.15 generation (kernel-model.md §0.1, §13.0.4, §14): mainline's accounting, registration,
 * param-check macros and table sizes, but the driver still takes ownership at attach (no ops for non-DDW
 * groups, v1 refused on DDW groups and v2 on non-DDW ones, §4.2 5.x), detach keeps the TCEs (§4.13) and
 * SET_CONTAINER tests the group before the fd (§14.4).
 *
 * Every field is written out with its source (audit of issue 7). "Spec silent" marks the fields
 * kernel-model.md does not decide for 5.x; their value then follows the kernel history named there.
 * test/engine/profile-5x.test.ts pins where 5.x differs from 4.2 and from mainline.
 */
export const PROFILE_5X: Profile = {
  name: '5.x',
  // spec silent (§1.1 gives 4.2 and ML only). ML's value: pnv_ioda_parse_tce_sizes with its POWER8
  // default of 4K|64K|16M|256M arrived in 2018 (≈v4.17–v4.18: "powerpc/ioda: Use ibm,supported-tce-sizes
  // for IOMMU page size mask", "powerpc/powernv/ioda2: Add 256M IOMMU page size to the default POWER8
  // case"), before 5.x
  defaultPgsizes: 0x11011000n,
  // §1.1: "in 4.2/5.x ops == NULL" for non-DDW groups
  ioda1HasOps: false,
  // §1.5 / COMMIT-MM (≈v4.10): the container remembers its mm and charges it
  accountTo: 'container',
  // §0.1 (5.x has account_locked_vm, ≈v5.3) with §1.5: it warns but does not clamp
  decrementClampsAtZero: false,
  // §3 item 7 / COMMIT-MM (≈v4.10): cross-mm ioctls get EPERM
  crossMmEperm: true,
  // §7.1 5.x row: the PE is taken at driver attach
  ownershipTakenAt: 'driver-attach',
  // §4.2 5.x (T5X:tce_iommu_attach_group)
  attachRules: '5.x',
  // §4.2 5.x: a group without ops is taken "(EBUSY/EINVAL as above, no userspace view)"
  borrowedViewCharged: false,
  // §14.4 (D8) and its summary table: VFIO5x tests container users before the fd, as 4.x
  setContainerGroupTestFirst: true,
  // §4.6.2: the +1 return of the OR'ed param-check macros exists in 5.x and ML
  misalignedIovaRet: 'PLUS_ONE',
  // §4.7: 5.x/ML check alignment and only the first page of an UNMAP
  unmapChecksWholeRange: false,
  // spec silent (§1.2 contrasts ML with the 4.2-era exchange). pnv_tce_xchg already forces READ with
  // WRITE in the ≈v4.18 arch/powerpc/platforms/powernv/pci-ioda-tce.c (torvalds/linux copy read through
  // the search tool), so every 5.x kernel does
  forceReadWithWrite: true,
  // §4.8 ML order (mm_iommu_new since ≈v5.1, §0.1) and §14.2 (D2, chunked pin since ≈v5.2, MM5X)
  register: 'mainline',
  // §4.9 "5.1+ and ML"
  unregister: 'mainline',
  // §4.13 5.x column: prereg_list regions are released by the container (COMMIT-PUTPAGES)
  releasePutsRegions: true,
  // §4.13 5.x column: detach keeps the TCEs (clearing at detach is ML ≥ ~6.10, PATCH-CLEAR)
  detachClearsTces: false,
  // §5.1 table: "5.x/ML: included in get_table_size as a factor 2"; no separate view charge
  tableSizeFactor: 2,
  separateViewCharge: false,
  // §4.10 step 6: the host-RAM limit is 4.2 only
  windowLimitedByRam: false,
  // spec silent (§4.10 gives 60 for 4.2 and 55 for ML). The limit became 55 in 2018 ("powerpc/powernv/
  // ioda2: Reduce upper limit for DMA window size (again)", after the ≈v4.18 pci-ioda-tce.c that still
  // says 60); a March 2020 patch to pnv_pci_ioda2_table_alloc_pages ("powerpc/powernv/ioda: Allow smaller
  // TCE table levels") shows 55 as context, so v5.8–v5.15 have 55
  platformAddressBits: 55,
  // §14.3 summary table: "charge kept (same tce_iommu_create_table as ML)"
  createLeaksChargeOnPlatformFailure: true,
  // spec silent (§4.12 describes 4.2 and ML). VFIO_EEH_PE_INJECT_ERR (op 9) is in the uapi vfio.h of
  // 4.x-era copies already (added ≈v4.7 [version unverified]), so 5.x has it
  eehInjectErr: true,
  src: SOURCES_5_X,
  // KVM of that generation (§13.0.4): the kvm-vfio device still takes a VFIO external user and lives until
  // the VM goes
  ...KVM_ERA_5_X,
};

export const PROFILES: Readonly<Record<KernelName, Profile>> = {
  '4.2': PROFILE_4_2,
  '5.x': PROFILE_5X,
  mainline: PROFILE_MAINLINE,
};

export function profileFor(name: KernelName): Profile {
  return PROFILES[name];
}
