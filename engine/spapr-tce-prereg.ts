/**
 * Models drivers/vfio/vfio_iommu_spapr_tce.c, the v2 memory pre-registration half:
 * tce_iommu_register_pages and tce_iommu_unregister_pages, the VFIO_IOMMU_SPAPR_REGISTER_MEMORY and
 * _UNREGISTER_MEMORY cases of tce_iommu_ioctl (kernel-model.md §4.8, §4.9). The regions themselves live in
 * iommu-api.ts (arch/powerpc/mm/book3s64/iommu_api.c).
 */
import { regionMm, tceIommuIoctlMmCheck, tceIommuMmSet } from './spapr-tce-build.ts';
import { CHUNK_SIZE } from './tce-table.ts';
import { USER_VA_LIMIT, type Container, type Kernel, type Proc } from './kernel.ts';
import type { Region } from './memory.ts';
import { type Res, fail, hex, ok } from './result.ts';
import { tce } from './cite.ts';
import { accountLockedVm, decrementLockedVm } from './locked-vm.ts';
import { mmIommuInsert, mmIommuPut, mmIommuRelease } from './iommu-api.ts';

const U64 = (1n << 64n) - 1n;
/** mm_iommu_do_alloc pins in chunks of (PAGE_SIZE << MAX_PAGE_ORDER) / sizeof(pointer) = 2^21 pages (§14.2) */
const MM_IOMMU_PIN_CHUNK = 2 ** 21;

export function tceIommuRegisterPages(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { vaddr: bigint; size: bigint; flags: number; argsz: number },
): Res {
  const P = k.profile;
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (!c.v2)
    return fail(
      'ENOTTY',
      'VFIO_IOMMU_SPAPR_REGISTER_MEMORY is a v2 ioctl; a v1 container answers ENOTTY (§4.8)',
      tce('tce_iommu_ioctl'),
    );
  if (P.register === 'mainline') {
    const m = tceIommuMmSet(k, caller, c);
    if (m) return m;
  }
  if (a.argsz < 24)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: argsz ${a.argsz} < 24 (§4.8)`,
      tce('tce_iommu_ioctl'),
    );
  if (a.flags !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: flags ${hex(a.flags)} must be 0 (§4.8)`,
      tce('tce_iommu_ioctl'),
    );
  const ps = BigInt(k.pageSize);
  if (a.vaddr % ps !== 0n || a.size % ps !== 0n) {
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: vaddr ${hex(a.vaddr)} and size ${hex(a.size)} must be multiples of the ${k.pageSize >> 10} KiB system page (§4.8, §5.5)`,
      tce('tce_iommu_register_pages'),
    );
  }
  if (a.vaddr + a.size > U64)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: vaddr + size wraps around 2^64 (§4.8)`,
      tce('tce_iommu_register_pages'),
    );
  const mm = P.accountTo === 'current' ? caller.currentMm : c.mm!;
  if (!mm)
    return fail(
      'ESRCH',
      'VFIO_IOMMU_SPAPR_REGISTER_MEMORY: the calling task has no mm (§4.8)',
      P.src.mmIommuAlloc,
    );
  const entries = Number(a.size >> BigInt(k.pageShift));
  // addresses beyond the user address space can be neither registered nor pinned
  const vaddr = a.vaddr >= BigInt(USER_VA_LIMIT) ? USER_VA_LIMIT : Number(a.vaddr);
  const size = Number(a.size);
  const end = vaddr + size;
  const label = `region ${hex(a.vaddr)}+${hex(a.size)}`;

  if (P.register === '4.2') {
    // MM42:mm_iommu_get — exact match takes a reference; any overlap is EINVAL, before accounting
    for (const r of mm.regions) {
      if (r.ua === vaddr && r.entries === entries) {
        r.used++;
        k.changes.touchRegion(r);
        enableV2(k, c);
        return ok(
          `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label} is already registered in this process: used ${r.used}, nothing charged or pinned again (§4.8, §5.4)`,
          P.src.mmIommuAlloc,
        );
      }
      if (r.ua < end && vaddr < r.end)
        return fail(
          'EINVAL',
          `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label} overlaps the registered region ${hex(r.ua)}+${hex(r.size)} (§4.8 step 4)`,
          P.src.mmIommuAlloc,
        );
    }
    const e = accountLockedVm(
      k,
      caller,
      c,
      entries,
      'regions',
      'VFIO_IOMMU_SPAPR_REGISTER_MEMORY',
      k.profile.src.regionCharge,
    );
    if (e) return e;
    if (entries === 0) {
      return fail(
        'ENOMEM',
        'VFIO_IOMMU_SPAPR_REGISTER_MEMORY: size 0: the zero-length hpas[] allocation fails (§4.8) [derived]',
        P.src.mmIommuAlloc,
      );
    }
    const pin = mm.pinnableExtents(vaddr, size);
    if ('fault' in pin) {
      decrementLockedVm(k, caller, c, entries, 'regions');
      return fail(
        'EFAULT',
        `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: cannot pin ${hex(pin.fault)} for write (not mapped or read-only); everything undone (§4.8 step 6)`,
        P.src.mmIommuAlloc,
      );
    }
    const r = mmIommuInsert(k, mm, vaddr, entries, size, pin.extents, undefined);
    enableV2(k, c);
    return ok(
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label}: ${entries} system pages pinned and charged to locked_vm (now ${mm.lockedVm}); region ${r.id} used 1, mapped 1 (§4.8, §5.4)`,
      tce('tce_iommu_register_pages'),
    );
  }

  // mainline: mm_iommu_get (exact, with a reference), else mm_iommu_new
  const found = mm.findExact(vaddr, entries);
  if (found && entries > 0) {
    if (c.prereg.has(found)) {
      return fail(
        'EBUSY',
        `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label} is already registered through this container (§4.8 mainline step 4)`,
        tce('tce_iommu_register_pages'),
      );
    }
    found.used++;
    c.prereg.add(found);
    found.containers.add(c.id);
    k.changes.touchRegion(found);
    enableV2(k, c);
    return ok(
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label} already exists in this mm${found.containers.size === 1 ? ' (orphaned, now re-adopted)' : ' (registered through another container)'}: reference taken, used ${found.used}, nothing charged (§4.8, §4.9, §5.4)`,
      tce('tce_iommu_register_pages'),
    );
  }
  const e = accountLockedVm(
    k,
    caller,
    c,
    entries,
    'regions',
    'VFIO_IOMMU_SPAPR_REGISTER_MEMORY',
    k.profile.src.regionCharge,
  );
  if (e) return e;
  if (entries === 0) {
    return fail(
      'ENOMEM',
      'VFIO_IOMMU_SPAPR_REGISTER_MEMORY: size 0: the zero-length allocation fails before the overlap test (§4.8) [derived]',
      P.src.mmIommuAlloc,
    );
  }
  const pin = mm.pinnableExtents(vaddr, size);
  if ('fault' in pin) {
    decrementLockedVm(k, caller, c, entries, 'regions');
    // §14.2 (D2): pinned in chunks of 2^21 pages; a chunk that pins only part returns that count
    const failedPage = Math.floor((pin.fault - vaddr) / k.pageSize);
    const inChunk = failedPage % MM_IOMMU_PIN_CHUNK;
    if (inChunk > 0)
      return {
        ret: inChunk,
        explain: `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${hex(pin.fault)} cannot be pinned for write (not mapped or read-only) after ${inChunk} page${inChunk === 1 ? '' : 's'} of its ${MM_IOMMU_PIN_CHUNK}-page pin chunk; the pin count is returned as is: +${inChunk}, while every pin and the charge are undone, no region is created and the container is not enabled; tce_iommu_register_pages returns it (§14.2, D2)`,
        cite: P.src.mmIommuAlloc,
      };
    return fail(
      'EFAULT',
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: cannot pin ${hex(pin.fault)} for write (not mapped or read-only), the first page of its pin chunk; pins and charge undone (§4.8 mainline step 5, §14.2)`,
      P.src.mmIommuAlloc,
    );
  }
  const overlap = mm.regions.find((r) => r.ua < end && vaddr < r.end);
  if (overlap) {
    decrementLockedVm(k, caller, c, entries, 'regions');
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label} overlaps the registered region ${hex(overlap.ua)}+${hex(overlap.size)}; pins and charge undone (§4.8 mainline step 5)`,
      P.src.mmIommuAlloc,
    );
  }
  // mem->pageshift: natural alignment of ua|size, lowered to each page's (huge) page shift (§1.4)
  let shift = Math.min(ctz(a.vaddr | a.size), 63);
  for (const x of pin.extents) shift = Math.min(shift, x.hugetlb ? x.backingShift : k.pageShift);
  const r = mmIommuInsert(k, mm, vaddr, entries, size, pin.extents, shift);
  c.prereg.add(r);
  r.containers.add(c.id);
  enableV2(k, c);
  return ok(
    `VFIO_IOMMU_SPAPR_REGISTER_MEMORY: ${label}: ${entries} system pages charged and pinned (locked_vm now ${mm.lockedVm}); region ${r.id} pageshift ${shift} (§4.8, §5.4)`,
    tce('tce_iommu_register_pages'),
  );
}

export function enableV2(k: Kernel, c: Container): void {
  c.enabled = true;
  k.changes.touchContainer(c);
}

export function tceIommuUnregisterPages(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { vaddr: bigint; size: bigint; flags: number; argsz: number },
): Res {
  const P = k.profile;
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (!c.v2)
    return fail(
      'ENOTTY',
      'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY is a v2 ioctl; a v1 container answers ENOTTY (§4.9)',
      tce('tce_iommu_ioctl'),
    );
  if (P.unregister === 'mainline' && !c.mm)
    return fail(
      'EPERM',
      'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: the container has no mm yet (nothing was registered through it) (§4.9)',
      tce('tce_iommu_ioctl'),
    );
  if (a.argsz < 24)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: argsz ${a.argsz} < 24 (§4.9)`,
      tce('tce_iommu_ioctl'),
    );
  if (a.flags !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: flags ${hex(a.flags)} must be 0 (§4.9)`,
      tce('tce_iommu_ioctl'),
    );
  const ps = BigInt(k.pageSize);
  if (a.vaddr % ps !== 0n || a.size % ps !== 0n)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: vaddr ${hex(a.vaddr)} and size ${hex(a.size)} must be multiples of the system page (§4.9)`,
      tce('tce_iommu_unregister_pages'),
    );
  const entries = Number(a.size >> BigInt(k.pageShift));
  const vaddr = a.vaddr >= BigInt(USER_VA_LIMIT) ? -1 : Number(a.vaddr);
  const label = `${hex(a.vaddr)}+${hex(a.size)}`;
  const mm = regionMm(k, caller, c);
  const r = mm?.findExact(vaddr, entries);
  if (!r) {
    const near = mm?.regions.find((q) => q.ua < vaddr + Number(a.size) && vaddr < q.end);
    return fail(
      'ENOENT',
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: no region registered with exactly ${label}${near ? ` (the registered region ${hex(near.ua)}+${hex(near.size)} only overlaps it: the range must match exactly)` : ''} (§4.9)`,
      tce('tce_iommu_unregister_pages'),
    );
  }
  if (P.unregister === '4.2') {
    r.used--;
    k.changes.touchRegion(r);
    if (r.used > 0)
      return ok(
        `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: ${label}: one reference dropped, used ${r.used}; the region stays registered and charged (§4.9)`,
        P.src.mmIommuPut,
      );
    if (r.mapped !== 1) {
      r.used++;
      const tces = r.mapped - 1;
      return fail(
        'EBUSY',
        `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: region ${label} is still referenced by ${tces} TCE${tces === 1 ? '' : 's'}${describeUsers(k, r)}; unmap them first (§4.9)`,
        P.src.mmIommuPut,
      );
    }
    mmIommuRelease(k, r);
    decrementLockedVm(k, caller, c, r.entries, 'regions');
    return ok(
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: ${label} released: ${r.entries} pages unpinned and un-charged (§4.9, §5.4)`,
      P.src.mmIommuPut,
    );
  }
  // mainline: temporary reference, must be in this container's prereg_list
  if (!c.prereg.has(r)) {
    return fail(
      'ENOENT',
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: region ${label} exists but is not in this container's prereg_list${r.containers.size === 0 ? ' (it was orphaned by an earlier UNREGISTER while mapped)' : ''} (§4.9)`,
      tce('tce_iommu_unregister_pages'),
    );
  }
  r.used++; // temporary reference
  c.prereg.delete(r);
  r.containers.delete(c.id);
  mmIommuPut(k, caller, c, r); // the container's reference: cannot reach zero here
  const res = mmIommuPut(k, caller, c, r); // the temporary one
  if (res === 'released')
    return ok(
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: ${label} released: ${r.entries} pages unpinned and un-charged (§4.9, §5.4)`,
      P.src.mmIommuPut,
    );
  if (res === 'busy') {
    const tces = r.mapped - 1;
    return ok(
      `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: region ${label} is still referenced by ${tces} TCE${tces === 1 ? '' : 's'}${describeUsers(k, r)}: the release is refused internally and the EBUSY discarded, so the call returns 0 while the region stays pinned and charged, owned by no container (orphaned, §4.9, Q3) [derived]`,
      tce('tce_iommu_unregister_pages'),
    );
  }
  return ok(
    `VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: ${label} removed from this container; used ${r.used} through other containers (§4.9)`,
    tce('tce_iommu_unregister_pages'),
  );
}

/** "window 0 entries 0–15" for the TCEs pointing into a region */
export function describeUsers(k: Kernel, r: Region): string {
  const parts: string[] = [];
  for (const c of k.containers) {
    for (let s = 0; s < 2; s++) {
      const t = c.tables[s];
      if (!t || t.valid === 0) continue;
      let first = -1;
      let last = -1;
      let count = 0;
      for (const [base, chunk] of t.allocatedChunks()) {
        if (chunk.valid === 0) continue;
        for (let o = 0; o < CHUNK_SIZE; o++) {
          if (chunk.tce[o] === 0) continue;
          const ua = chunk.ua[o]!;
          if (ua >= r.ua && ua < r.end) {
            if (first < 0) first = base + o;
            last = base + o;
            count++;
          }
        }
      }
      if (count) parts.push(`container ${c.id} window ${s} entries ${first}–${last}`);
    }
  }
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function ctz(x: bigint): number {
  if (x === 0n) return 64;
  let n = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}
