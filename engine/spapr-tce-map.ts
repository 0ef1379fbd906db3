/**
 * Models drivers/vfio/vfio_iommu_spapr_tce.c, the MAP and UNMAP half: tce_iommu_ioctl's VFIO_IOMMU_MAP_DMA
 * and VFIO_IOMMU_UNMAP_DMA cases, tce_iommu_build (v1: one pin per IOMMU page), tce_iommu_build_v2 (v2:
 * translation through pre-registered regions) and tce_iommu_clear (kernel-model.md §4.6, §4.7).
 */
import { tceIommuFindTable, tceIommuIoctlMmCheck, windowsText } from './spapr-tce.ts';
import { tceIommuCreateDefaultWindow } from './spapr-tce-ddw.ts';
import { CHUNK_SIZE, type TceTable } from './tce-table.ts';
import type { Container, Kernel, Proc } from './kernel.ts';
import type { Mm, Region } from './memory.ts';
import { type Res, fail, hex, ok } from './result.ts';
import { iommuTceParamCheckFailed } from './iommu.ts';

const TCE_READ = 1; // TCE_PCI_READ (arch/powerpc/include/asm/tce.h)
const TCE_WRITE = 2; // TCE_PCI_WRITE
const PAGE_4K = 4096; // TCE addresses are in 4 KiB units whatever the IOMMU page

export function tceIommuIoctlMapDma(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { vaddr: bigint; iova: bigint; size: bigint; flags: number; argsz: number },
): Res {
  const P = k.profile;
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (!c.enabled) {
    return fail(
      'EPERM',
      c.v2
        ? 'VFIO_IOMMU_MAP_DMA: the v2 container is not enabled: no memory has been pre-registered yet (§4.6.1 check 1)'
        : 'VFIO_IOMMU_MAP_DMA: the v1 container is not enabled (VFIO_IOMMU_ENABLE) (§4.6.1 check 1)',
    );
  }
  if (a.argsz < 32) return fail('EINVAL', `VFIO_IOMMU_MAP_DMA: argsz ${a.argsz} < 32 (§4.6.1 check 3)`);
  if ((a.flags & ~3) !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_MAP_DMA: flags ${hex(a.flags)} has bits other than READ|WRITE (§4.6.1 check 4)`,
    );
  const d = tceIommuCreateDefaultWindow(k, caller, c);
  if (d) return d;
  const w = tceIommuFindTable(c, a.iova);
  if (!w)
    return fail(
      'ENXIO',
      `VFIO_IOMMU_MAP_DMA: IOVA ${hex(a.iova)} is in no DMA window (${windowsText(c)}) (§4.6.1 check 6)`,
    );
  const { slot, t } = w;
  const ps = BigInt(t.pageSize);
  if (a.size % ps !== 0n || a.vaddr % ps !== 0n) {
    return fail(
      'EINVAL',
      `VFIO_IOMMU_MAP_DMA: size ${hex(a.size)} or vaddr ${hex(a.vaddr)} is not a multiple of the window's ${t.pageSize >= 1 << 20 ? `${t.pageSize >> 20} MiB` : `${t.pageSize >> 10} KiB`} IOMMU page (§4.6.1 check 7)`,
    );
  }
  if ((a.flags & 3) === 0)
    return fail('EINVAL', 'VFIO_IOMMU_MAP_DMA: flags name neither READ nor WRITE (§4.6.1 check 8)');
  if (a.iova % ps !== 0n)
    return iommuTceParamCheckFailed(
      k,
      'VFIO_IOMMU_MAP_DMA',
      `IOVA ${hex(a.iova)} is not aligned to the ${t.pageSize}-byte IOMMU page`,
    );
  const pages = a.size / ps;
  const entry0 = a.iova >> BigInt(t.pageShift);
  const index0 = Number(entry0 - BigInt(t.offset));
  if (BigInt(index0) + pages > BigInt(t.size)) {
    return fail(
      'EINVAL',
      `VFIO_IOMMU_MAP_DMA: the range runs ${pages - BigInt(t.size - index0)} IOMMU pages past the end of window slot ${slot}; the kernel only checks the first page and would write beyond the table (UNDEFINED, §4.6.1, Q2): refused`,
    );
  }
  if (pages === 0n) return ok('VFIO_IOMMU_MAP_DMA: size 0 passes every check and maps nothing (§4.6.1)');
  const perm =
    (a.flags & 1 ? TCE_READ : 0) |
    (a.flags & 2 ? TCE_WRITE : 0) |
    (P.forceReadWithWrite && a.flags & 2 ? TCE_READ : 0);
  const n = Number(pages);
  const vaddr = Number(a.vaddr);
  return c.v2
    ? tceIommuBuildV2(k, caller, c, slot, t, index0, n, vaddr, perm)
    : tceIommuBuild(k, caller, c, slot, t, index0, n, vaddr, perm);
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
      };
    }
  }
  return ok(
    `VFIO_IOMMU_MAP_DMA: ${n} TCEs in window slot ${slot} entries ${index0}–${index0 + n - 1}, one pin each, no locked_vm change (§4.6.3)${replaced ? `; ${replaced} occupied slots replaced, their old pages unpinned` : ''}`,
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
      );
    } else if (r.pageShift !== undefined && t.pageShift > r.pageShift) {
      err = fail(
        'EINVAL',
        `VFIO_IOMMU_MAP_DMA: the region at ${hex(r.ua)} can back IOMMU pages up to 2^${r.pageShift} bytes, the window uses 2^${t.pageShift} (mem->pageshift, §4.6.4 step 2)`,
      );
    } else {
      const e = r.extentAt(ua);
      if (e.backingShift < t.pageShift) {
        err = fail(
          'EPERM',
          `VFIO_IOMMU_MAP_DMA: the ${(2 ** e.backingShift) >> 10} KiB page backing ${hex(ua)} is smaller than the ${ps >> 10} KiB IOMMU page (containment check, §4.6.4 step 3)`,
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
    };
  }
  const rs = [...regionsUsed].map((r) => `${hex(r.ua)} (mapped ${r.mapped})`).join(', ');
  return ok(
    `VFIO_IOMMU_MAP_DMA: ${n} TCEs in window slot ${slot} entries ${index0}–${index0 + n - 1} through region ${rs}; v2 pins nothing at map time and locked_vm is unchanged (§4.6.4)${replaced ? `; ${replaced} occupied slots replaced` : ''}`,
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

export function tceIommuIoctlUnmapDma(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { iova: bigint; size: bigint; flags: number; argsz: number },
): Res {
  const P = k.profile;
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (!c.enabled)
    return fail(
      'EPERM',
      `VFIO_IOMMU_UNMAP_DMA: the ${c.v2 ? 'v2 container has no pre-registered memory yet' : 'v1 container is not enabled'} (§4.7)`,
    );
  if (a.argsz < 24) return fail('EINVAL', `VFIO_IOMMU_UNMAP_DMA: argsz ${a.argsz} < 24 (§4.7)`);
  if (a.flags !== 0)
    return fail('EINVAL', `VFIO_IOMMU_UNMAP_DMA: flags ${hex(a.flags)}: sPAPR accepts no flags (§4.7)`);
  const d = tceIommuCreateDefaultWindow(k, caller, c);
  if (d) return d;
  const w = tceIommuFindTable(c, a.iova);
  if (!w)
    return fail(
      'ENXIO',
      `VFIO_IOMMU_UNMAP_DMA: IOVA ${hex(a.iova)} is in no DMA window (${windowsText(c)}) (§4.7)`,
    );
  const { slot, t } = w;
  const ps = BigInt(t.pageSize);
  if (a.size % ps !== 0n)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_UNMAP_DMA: size ${hex(a.size)} is not a multiple of the ${t.pageSize}-byte IOMMU page (§4.7)`,
    );
  if (a.iova % ps !== 0n)
    return iommuTceParamCheckFailed(
      k,
      'VFIO_IOMMU_UNMAP_DMA',
      `IOVA ${hex(a.iova)} is not aligned to the ${t.pageSize}-byte IOMMU page`,
    );
  const index0 = Number((a.iova >> BigInt(t.pageShift)) - BigInt(t.offset));
  const pages = a.size / ps;
  if (BigInt(index0) + pages > BigInt(t.size)) {
    if (P.unmapChecksWholeRange)
      return fail(
        'EINVAL',
        `VFIO_IOMMU_UNMAP_DMA: ${hex(a.iova)}+${hex(a.size)} runs past the end of window slot ${slot} (iommu_tce_clear_param_check, §4.7)`,
      );
    return fail(
      'EINVAL',
      `VFIO_IOMMU_UNMAP_DMA: the range runs past the end of window slot ${slot}; mainline checks only the first page and would touch slots beyond the table (UNDEFINED, §4.7, Q2): refused`,
    );
  }
  const n = Number(pages);
  const cleared = n ? tceIommuClear(k, caller, c, slot, t, index0, n) : 0;
  return ok(
    `VFIO_IOMMU_UNMAP_DMA: window slot ${slot} entries ${index0}–${index0 + n - 1}: ${cleared} TCEs cleared${c.v2 ? " (regions' mapped counts dropped)" : ' (pages unpinned)'}, empty slots skipped (§4.7)`,
  );
}
