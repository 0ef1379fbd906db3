/**
 * Models drivers/vfio/vfio_iommu_spapr_tce.c, the TCE level every ioctl of the driver shares:
 * tce_iommu_find_table, tce_iommu_build (v1: one pin per IOMMU page), tce_iommu_build_v2 (v2: translation
 * through pre-registered regions), tce_iommu_clear, tce_iommu_unuse_page_v2, tce_iommu_mm_set and the
 * container-mm test at the top of tce_iommu_ioctl (kernel-model.md §3 item 7, §4.6.3, §4.6.4, §4.7).
 */
import type { Kernel, Proc } from './kernel.ts';
import type { Mm, Region } from './memory.ts';
import { CHUNK_SIZE, type TceTable } from './tce-table.ts';
import type { Container } from './vfio-container.ts';
import { type Res, fail, hex, ok } from './result.ts';
import { tce } from './cite.ts';

const PAGE_4K = 4096; // TCE addresses are in 4 KiB units whatever the IOMMU page

/** §3 item 7: mainline refuses ioctls from another mm once the container has one */
export function tceIommuIoctlMmCheck(k: Kernel, caller: Proc, c: Container): Res<never> | null {
  if (k.profile.crossMmEperm && c.mm && c.mm !== caller.mm) {
    return fail(
      'EPERM',
      `the container belongs to pid ${c.mm.pid}'s mm; ioctls from pid ${caller.pid} are refused (§3 item 7)`,
      tce('tce_iommu_ioctl'),
    );
  }
  return null;
}

/** tce_iommu_mm_set (mainline): record container->mm, EPERM if another mm is recorded */
export function tceIommuMmSet(k: Kernel, caller: Proc, c: Container): Res<never> | null {
  if (k.profile.accountTo !== 'container') return null;
  if (c.mm)
    return c.mm === caller.mm
      ? null
      : fail(
          'EPERM',
          `the container already belongs to pid ${c.mm.pid}'s mm (§1.3)`,
          tce('tce_iommu_mm_set'),
        );
  c.mm = caller.mm;
  k.changes.touchContainer(c);
  return null;
}

/** tce_iommu_find_table: slot 0 then slot 1, first window containing the entry (§4.6.1 step 6) */
export function tceIommuFindTable(c: Container, iova: bigint): { slot: number; t: TceTable } | null {
  for (let s = 0; s < 2; s++) {
    const t = c.tables[s];
    if (!t) continue;
    const entry = iova >> BigInt(t.pageShift);
    if (entry >= BigInt(t.offset) && entry < BigInt(t.offset) + BigInt(t.size)) return { slot: s, t };
  }
  return null;
}

export function windowsText(c: Container): string {
  const w = c.tables
    .map((t, s) => (t ? `slot ${s} ${hex(t.startAddr)}..${hex(t.startAddr + t.windowSize - 1n)}` : null))
    .filter(Boolean);
  return w.length ? w.join(', ') : 'no window';
}

/** v1 build (§4.6.3): one pin per IOMMU page, containment check, old pages unpinned */
export function tceIommuBuild(
  k: Kernel,
  caller: Proc,
  c: Container,
  slot: number,
  t: TceTable,
  index0: number,
  n: number,
  vaddr: number,
  perm: number,
): Res {
  const mm = caller.mm; // v1 pins through the caller's address space (get_user_pages on current->mm)
  const ps = t.pageSize;
  let replaced = 0;
  for (let i = 0; i < n; i++) {
    const ua = vaddr + i * ps;
    const e = mm.alive ? mm.mappingAt(ua) : undefined;
    let err: Res | null = null;
    if (!e || !e.writable) {
      err = fail(
        'EFAULT',
        `VFIO_IOMMU_MAP_DMA: cannot pin ${hex(ua)} for write: ${e ? 'read-only mapping (v1 pins always request write access, Q6)' : 'not mapped'} (§4.6.3 step 1)`,
        tce('tce_iommu_build'),
      );
    } else {
      const phys = e.phys + (ua - e.start);
      const frame = Math.floor(phys / k.pageSize);
      k.pin(frame);
      if (e.backingShift < t.pageShift) {
        // the pin taken above is not released on this path (Q5) [derived]
        err = fail(
          'EPERM',
          `VFIO_IOMMU_MAP_DMA: the ${(2 ** e.backingShift) >> 10} KiB page backing ${hex(ua)} is smaller than the ${ps >> 10} KiB IOMMU page (containment check, §4.6.3 step 2)`,
          tce('tce_iommu_build'),
        );
      } else {
        const idx = index0 + i;
        const chunk = t.chunkFor(idx);
        const o = idx % CHUNK_SIZE;
        const old = chunk.tce[o]!;
        if (old !== 0) {
          k.unpin(Math.floor((old - (old % PAGE_4K)) / k.pageSize));
          replaced++;
        } else {
          chunk.valid++;
          t.valid++;
        }
        chunk.tce[o] = phys + perm;
        k.changes.tceRun(c.id, slot, t.id, idx, 1, phys + perm, 0, ps);
      }
    }
    if (err) {
      if (i > 0) tceIommuClear(k, caller, c, slot, t, index0, i);
      return {
        ret: err.ret,
        explain: `${err.explain}${i > 0 ? `; the ${i} entries written by this call were cleared` : ''}`,
        cite: err.cite,
      };
    }
  }
  return ok(
    `VFIO_IOMMU_MAP_DMA: ${n} TCEs in window slot ${slot} entries ${index0}–${index0 + n - 1}, one pin each, no locked_vm change (§4.6.3)${replaced ? `; ${replaced} occupied slots replaced, their old pages unpinned` : ''}`,
    tce('tce_iommu_build'),
  );
}

/** v2 build (§4.6.4): translate through pre-registered regions of the caller's mm, bump `mapped` */
export function tceIommuBuildV2(
  k: Kernel,
  caller: Proc,
  c: Container,
  slot: number,
  t: TceTable,
  index0: number,
  n: number,
  vaddr: number,
  perm: number,
): Res {
  const mm = regionMm(k, caller, c);
  const ps = t.pageSize;
  let i = 0;
  let replaced = 0;
  const regionsUsed = new Set<Region>();
  while (i < n) {
    const ua = vaddr + i * ps;
    const r = mm?.lookup(ua, ps);
    let err: Res | null;
    if (!r) {
      err = fail(
        'EINVAL',
        `VFIO_IOMMU_MAP_DMA: no pre-registered region of pid ${mm?.pid ?? caller.pid} contains ${hex(ua)}..${hex(ua + ps - 1)} (§4.6.4 step 1)`,
        tce('tce_iommu_prereg_ua_to_hpa'),
      );
    } else if (r.pageShift !== undefined && t.pageShift > r.pageShift) {
      err = fail(
        'EINVAL',
        `VFIO_IOMMU_MAP_DMA: the region at ${hex(r.ua)} can back IOMMU pages up to 2^${r.pageShift} bytes, the window uses 2^${t.pageShift} (mem->pageshift, §4.6.4 step 2)`,
        tce('tce_iommu_prereg_ua_to_hpa'),
      );
    } else {
      const e = r.extentAt(ua);
      if (e.backingShift < t.pageShift) {
        err = fail(
          'EPERM',
          `VFIO_IOMMU_MAP_DMA: the ${(2 ** e.backingShift) >> 10} KiB page backing ${hex(ua)} is smaller than the ${ps >> 10} KiB IOMMU page (containment check, §4.6.4 step 3)`,
          tce('tce_iommu_build_v2'),
        );
      } else {
        // a run of pages inside this region and this extent is translated in one go
        const run = Math.min(n - i, Math.floor((r.end - ua) / ps), Math.floor((e.end - ua) / ps));
        const phys = e.phys + (ua - e.start);
        replaced += tceIommuBuildV2Run(k, caller, c, slot, t, index0 + i, run, phys + perm, ua, ps);
        r.mapped += run;
        regionsUsed.add(r);
        k.changes.touchRegion(r);
        i += run;
        continue;
      }
    }
    if (i > 0) tceIommuClear(k, caller, c, slot, t, index0, i);
    return {
      ret: err.ret,
      explain: `${err.explain}${i > 0 ? `; the ${i} entries written by this call were cleared` : ''}`,
      cite: err.cite,
    };
  }
  const rs = [...regionsUsed].map((r) => `${hex(r.ua)} (mapped ${r.mapped})`).join(', ');
  return ok(
    `VFIO_IOMMU_MAP_DMA: ${n} TCEs in window slot ${slot} entries ${index0}–${index0 + n - 1} through region ${rs}; v2 pins nothing at map time and locked_vm is unchanged (§4.6.4)${replaced ? `; ${replaced} occupied slots replaced` : ''}`,
    tce('tce_iommu_build_v2'),
  );
}

/** writes `count` consecutive v2 TCEs; returns how many occupied slots were replaced */
export function tceIommuBuildV2Run(
  k: Kernel,
  caller: Proc,
  c: Container,
  slot: number,
  t: TceTable,
  start: number,
  count: number,
  value0: number,
  ua0: number,
  ps: number,
): number {
  let replaced = 0;
  let done = 0;
  while (done < count) {
    const idx = start + done;
    const chunk = t.chunkFor(idx);
    const off = idx % CHUNK_SIZE;
    const n = Math.min(count - done, CHUNK_SIZE - off);
    const tce = chunk.tce;
    const uas = chunk.ua;
    const v = value0 + done * ps;
    const u = ua0 + done * ps;
    if (chunk.valid === 0) {
      // fresh chunk piece: nothing to replace, two linear stores per entry
      let tv = v;
      let tu = u;
      for (let o = off, end = off + n; o < end; o++) {
        tce[o] = tv;
        uas[o] = tu;
        tv += ps;
        tu += ps;
      }
      chunk.valid += n;
      t.valid += n;
    } else {
      let fresh = 0;
      for (let j = 0; j < n; j++) {
        if (tce[off + j] !== 0) {
          tceIommuUnusePageV2(k, caller, c, t, uas[off + j]!);
          replaced++;
        } else fresh++;
        tce[off + j] = v + j * ps;
        uas[off + j] = u + j * ps;
      }
      chunk.valid += fresh;
      t.valid += fresh;
    }
    done += n;
  }
  k.changes.tceRun(c.id, slot, t.id, start, count, value0, ua0, ps);
  return replaced;
}

/** the mm whose regions v2 looks up: current->mm (4.2) or container->mm (mainline) */
export function regionMm(k: Kernel, caller: Proc, c: Container): Mm | null {
  return k.profile.accountTo === 'current' ? caller.currentMm : (c.mm ?? caller.currentMm);
}

/** tce_iommu_unuse_page_v2: find the region of the old ua and drop one `mapped` (never below 1) */
export function tceIommuUnusePageV2(k: Kernel, caller: Proc, c: Container, t: TceTable, ua: number): void {
  const mm = regionMm(k, caller, c);
  const r = mm?.lookup(ua, t.pageSize);
  if (r && r.mapped > 1) {
    r.mapped--;
    k.changes.touchRegion(r);
  }
}

/** clears [start, start+count): v1 unpins, v2 drops `mapped`; unallocated chunks are skipped (§4.7) */
export function tceIommuClear(
  k: Kernel,
  caller: Proc,
  c: Container,
  slot: number,
  t: TceTable,
  start: number,
  count: number,
): number {
  let cleared = 0;
  const mm = regionMm(k, caller, c);
  const ps = t.pageSize;
  // consecutive entries usually come from one region: batch its `mapped` decrements
  let region: Region | undefined;
  let pendingDec = 0;
  const flush = (): void => {
    if (region && pendingDec) {
      region.mapped = Math.max(1, region.mapped - pendingDec);
      k.changes.touchRegion(region);
    }
    pendingDec = 0;
  };
  let rStart = 0;
  let rEnd = -1;
  t.forEachAllocated(start, count, (chunk, from, to) => {
    const tce = chunk.tce;
    const uas = chunk.ua;
    let n = 0;
    if (c.v2) {
      const full = chunk.valid === CHUNK_SIZE; // every slot valid: no need to test the TCEs
      for (let o = from; o < to; o++) {
        if (!full && tce[o] === 0) continue;
        n++;
        if (!mm) continue; // 4.2 during exit: no current->mm, counters not touched (§5.6)
        const ua = uas[o]!;
        if (ua < rStart || ua + ps > rEnd) {
          // regions never overlap: the region containing this page is the one lookup would find
          flush();
          region = mm.lookup(ua, ps);
          rStart = region ? region.ua : 0;
          rEnd = region ? region.end : -1;
        }
        if (region) pendingDec++;
      }
      uas.fill(0, from, to);
    } else {
      for (let o = from; o < to; o++) {
        const old = tce[o]!;
        if (old === 0) continue;
        n++;
        k.unpin(Math.floor((old - (old % PAGE_4K)) / k.pageSize));
      }
    }
    tce.fill(0, from, to);
    chunk.valid -= n;
    cleared += n;
  });
  flush();
  if (cleared) {
    t.valid -= cleared; // chunks stay allocated, like the kernel's indirect levels
    k.changes.tceClear(c.id, slot, t.id, start, count);
  }
  return cleared;
}

export function tceIommuClearTable(k: Kernel, caller: Proc, c: Container, slot: number, t: TceTable): number {
  return tceIommuClear(k, caller, c, slot, t, 0, t.size);
}
