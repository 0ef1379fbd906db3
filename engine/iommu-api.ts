/**
 * Models arch/powerpc/mm/book3s64/iommu_api.c (arch/powerpc/mm/mmu_context_iommu.c before ~5.2): the
 * pre-registered regions of an mm (mm_iommu_table_group_mem_t, kernel-model.md §1.4), their references
 * (`used`), their TCE count (`mapped`) and their release.
 */
import type { Kernel, Proc, Container } from './kernel.ts';
import { Region, type Extent, type Mm } from './memory.ts';

/**
 * The tail of mm_iommu_do_alloc (mm_iommu_get in 4.2): the new region, used 1 and mapped 1, is added at
 * the head of the mm's list, so lookups find the newest region first (§1.4).
 */
export function mmIommuInsert(
  k: Kernel,
  mm: Mm,
  ua: number,
  entries: number,
  size: number,
  extents: Extent[],
  pageShift: number | undefined,
): Region {
  const r = new Region(k.ids.next('region'), mm, ua, entries, size, extents, pageShift);
  mm.regions.unshift(r);
  k.changes.touchRegion(r);
  return r;
}

/** mm_iommu_release (with mm_iommu_unpin and mm_iommu_free): unpinned, removed from the list, mapped = 0 */
export function mmIommuRelease(k: Kernel, r: Region): void {
  r.mapped = 0;
  r.used = 0;
  r.released = true;
  const i = r.mm.regions.indexOf(r);
  if (i >= 0) r.mm.regions.splice(i, 1);
  k.changes.touchRegion(r);
}

/** mm_iommu_put (mainline; 4.2's mm_iommu_put is the same test): drop one reference; release when it was the last and nothing is mapped */
export function mmIommuPut(k: Kernel, _caller: Proc, _c: Container, r: Region): 'released' | 'kept' | 'busy' {
  r.used--;
  k.changes.touchRegion(r);
  if (r.used > 0) return 'kept';
  if (r.mapped !== 1) {
    r.used++; // the release is refused, the reference restored (§4.9)
    return 'busy';
  }
  mmIommuRelease(k, r);
  r.mm.uncharge(r.entries, 'regions', k.profile);
  k.changes.touchProcess(r.mm.pid);
  return 'released';
}
