/**
 * Models arch/powerpc/platforms/powernv/pci-ioda.c: the PowerNV PHBs, their PEs with the IOMMU group and
 * iommu_table_group each carries (kernel-model.md §1.1, §7), and the table-group ops. IODA2 PEs are
 * DDW-capable with the six table-group ops; IODA1 PEs are the non-DDW groups of §9.0 (4.2: no ops, VFIO
 * borrows the kernel's 4 KiB table; mainline: "borrowing" ops with max_dynamic_windows_supported = 0 and
 * pgsizes = 4 KiB).
 */
import type { Profile } from './profile.ts';
import type { TceTable } from './tce-table.ts';

export const SLOT1_BUS_ADDR = 1n << 59n; // IODA2: TVE#1 selected by PCI address bit 59 (§1.1)
export const IOMMU_TABLE_GROUP_MAX_TABLES = 2; // §2.4
export const POWERNV_IOMMU_MAX_LEVELS = 5;

export type PhbModel = 'IODA2' | 'IODA1';

export class Phb {
  readonly groups: Group[] = [];
  constructor(
    readonly id: number,
    readonly model: PhbModel,
    readonly tce32Start: bigint,
    readonly tce32Size: bigint,
    readonly pgsizes: bigint,
  ) {}

  /** the table group's ops pointer identity: groups of one PHB model share one ops structure */
  get opsId(): string {
    return this.model;
  }
}

/** An IOMMU group = one PE with its iommu_table_group. */
export class Group {
  /** the container this group is attached to (vfio_group->container) */
  container: number | null = null;
  /** who owns the PE's DMA: the host kernel (bypass + default window) or VFIO */
  owner: 'kernel' | 'vfio' = 'kernel';
  /** the group fd is open (a group can be opened once, §3) */
  fdOpen = false;
  /** device fds open (they keep the group in its container, §3 item 4) */
  devicesOpen = 0;
  /** container windows programmed into this PE, by slot (the PE's TVEs) */
  readonly programmed: (number | null)[] = [null, null];
  /** IODA1: the host kernel's own DMA table; it_map has bits beyond bit 0 while kernelDma */
  kernelDma: boolean;
  /** IODA1 (4.2): the kernel table VFIO borrowed while it owns the group */
  borrowed: TceTable | null = null;

  constructor(
    readonly id: number,
    readonly phb: Phb,
    readonly pe: number,
    readonly devices: string[],
    kernelDma: boolean,
  ) {
    this.kernelDma = kernelDma;
  }

  get name(): string {
    return `domain${this.phb.id}-pe${this.pe}`;
  }

  /** table_group->ops present (IODA2 always; IODA1 only with the mainline borrowing ops) */
  hasOps(profile: Profile): boolean {
    return this.phb.model === 'IODA2' || profile.ioda1HasOps;
  }

  get maxDynamicWindows(): number {
    return this.phb.model === 'IODA2' ? IOMMU_TABLE_GROUP_MAX_TABLES : 0;
  }

  get maxLevels(): number {
    return POWERNV_IOMMU_MAX_LEVELS;
  }

  get tce32Start(): bigint {
    return this.phb.tce32Start;
  }

  get tce32Size(): bigint {
    return this.phb.tce32Size;
  }

  get pgsizes(): bigint {
    return this.phb.pgsizes;
  }

  /** bus address of a window slot (§1.1): slot 0 at tce32_start, slot 1 at 1 << 59 */
  slotBusAddr(slot: number): bigint {
    return slot === 0 ? this.tce32Start : SLOT1_BUS_ADDR;
  }
}
