/**
 * Models arch/powerpc/platforms/powernv/pci-ioda-tce.c (pci-ioda.c in 4.2): IODA2 TCE table geometry,
 * pnv_pci_ioda2_get_table_size's arithmetic and the platform's level check (kernel-model.md §5.2, §4.10
 * step 8).
 * Pure integer arithmetic on bigint: window sizes reach 2^59 and table sizes 2^50 bytes.
 */
import type { Profile } from './profile.ts';

export const MAX_LEVELS = 5; // POWERNV_IOMMU_MAX_LEVELS (§2.4)

function log2Exact(x: bigint): number {
  // caller guarantees a power of two
  return x.toString(2).length - 1;
}

export function isPowerOfTwo(x: bigint): boolean {
  return x > 0n && (x & (x - 1n)) === 0n;
}

export interface TableGeometry {
  /** log2 of the number of TCEs */
  entriesShift: number;
  /** log2 of one level's size in bytes (level_shift) */
  levelShift: number;
  /** bytes of the hardware table (all levels), what 4.2 returns */
  tableBytes: bigint;
}

/**
 * pnv_pci_ioda2_get_table_size's arithmetic (§5.2 steps 2–4). Returns null where the kernel returns 0:
 * levels 0 or > 5, window not a power of two (incl. 0), or (4.2) window larger than host RAM.
 */
export function tableGeometry(
  profile: Profile,
  pageShift: number,
  windowSize: bigint,
  levels: number,
  systemPageShift: number,
  ramSize: bigint,
): TableGeometry | null {
  if (levels === 0 || levels > MAX_LEVELS || !Number.isInteger(levels) || levels < 0) return null;
  if (!isPowerOfTwo(windowSize)) return null;
  if (profile.windowLimitedByRam && windowSize > ramSize) return null;
  const windowShift = log2Exact(windowSize);
  // a window smaller than one IOMMU page has no entries; the kernel's shift arithmetic would go negative
  const entriesShift = Math.max(windowShift - pageShift, 0);
  const perLevelBits = Math.ceil(entriesShift / levels);
  const levelShift = Math.max(perLevelBits + 3, systemPageShift);
  const levelBytes = 1n << BigInt(levelShift);
  let t = 1n << BigInt(entriesShift + 3);
  if (t < 4096n) t = 4096n;
  let bytes = 0n;
  for (let i = 0; i < levels; i++) {
    bytes += ((t + levelBytes - 1n) / levelBytes) * levelBytes;
    const next = (t / levelBytes) * 8n;
    t = next > levelBytes ? next : levelBytes;
  }
  return { entriesShift, levelShift, tableBytes: bytes };
}

/** What get_table_size returns: 4.2 the table bytes, mainline twice that (table + userspace copy). */
export function getTableSize(profile: Profile, g: TableGeometry): bigint {
  return g.tableBytes * BigInt(profile.tableSizeFactor);
}

/** §4.10 step 8: the platform refuses tables whose index bits exceed its address-bit limit. */
export function platformAcceptsLevels(
  profile: Profile,
  g: TableGeometry,
  levels: number,
  pageShift: number,
): boolean {
  return (g.levelShift - 3) * levels + pageShift < profile.platformAddressBits;
}

/** §5.1 userspace view (it_userspace) of a table with `entries` TCEs: ALIGN_UP(8 * it_size, PAGE_SIZE) pages. */
export function viewPages(entries: number, systemPageShift: number): number {
  const bytes = 8 * entries;
  const page = 2 ** systemPageShift;
  return Math.ceil(bytes / page);
}

/** bytes >> PAGE_SHIFT as a page count */
export function bytesToPages(bytes: bigint, systemPageShift: number): number {
  return Number(bytes >> BigInt(systemPageShift));
}
