/**
 * Models drivers/vfio/vfio_iommu_spapr_tce.c, the VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA cases of
 * tce_iommu_ioctl: their checks in order, then tce_iommu_build / tce_iommu_build_v2 / tce_iommu_clear
 * (spapr-tce-build.ts) (kernel-model.md §4.6, §4.7).
 */
import {
  tceIommuBuild,
  tceIommuBuildV2,
  tceIommuClear,
  tceIommuFindTable,
  tceIommuIoctlMmCheck,
  windowsText,
} from './spapr-tce-build.ts';
import { tceIommuCreateDefaultWindow } from './spapr-tce-ddw.ts';
import type { Container, Kernel, Proc } from './kernel.ts';
import { type Res, fail, hex, ok } from './result.ts';
import { kernelIommu, tce } from './cite.ts';
import { iommuTceParamCheckFailed } from './iommu.ts';

const TCE_READ = 1; // TCE_PCI_READ (arch/powerpc/include/asm/tce.h)
const TCE_WRITE = 2; // TCE_PCI_WRITE

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
      tce('tce_iommu_ioctl'),
    );
  }
  if (a.argsz < 32)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_MAP_DMA: argsz ${a.argsz} < 32 (§4.6.1 check 3)`,
      tce('tce_iommu_ioctl'),
    );
  if ((a.flags & ~3) !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_MAP_DMA: flags ${hex(a.flags)} has bits other than READ|WRITE (§4.6.1 check 4)`,
      tce('tce_iommu_ioctl'),
    );
  const d = tceIommuCreateDefaultWindow(k, caller, c);
  if (d) return d;
  const w = tceIommuFindTable(c, a.iova);
  if (!w)
    return fail(
      'ENXIO',
      `VFIO_IOMMU_MAP_DMA: IOVA ${hex(a.iova)} is in no DMA window (${windowsText(c)}) (§4.6.1 check 6)`,
      tce('tce_iommu_ioctl'),
    );
  const { slot, t } = w;
  const ps = BigInt(t.pageSize);
  if (a.size % ps !== 0n || a.vaddr % ps !== 0n) {
    return fail(
      'EINVAL',
      `VFIO_IOMMU_MAP_DMA: size ${hex(a.size)} or vaddr ${hex(a.vaddr)} is not a multiple of the window's ${t.pageSize >= 1 << 20 ? `${t.pageSize >> 20} MiB` : `${t.pageSize >> 10} KiB`} IOMMU page (§4.6.1 check 7)`,
      tce('tce_iommu_ioctl'),
    );
  }
  if ((a.flags & 3) === 0)
    return fail(
      'EINVAL',
      'VFIO_IOMMU_MAP_DMA: flags name neither READ nor WRITE (§4.6.1 check 8)',
      tce('tce_iommu_ioctl'),
    );
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
      tce('tce_iommu_ioctl'),
    );
  }
  if (pages === 0n)
    return ok(
      'VFIO_IOMMU_MAP_DMA: size 0 passes every check and maps nothing (§4.6.1)',
      tce('tce_iommu_ioctl'),
    );
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
      tce('tce_iommu_ioctl'),
    );
  if (a.argsz < 24)
    return fail('EINVAL', `VFIO_IOMMU_UNMAP_DMA: argsz ${a.argsz} < 24 (§4.7)`, tce('tce_iommu_ioctl'));
  if (a.flags !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_UNMAP_DMA: flags ${hex(a.flags)}: sPAPR accepts no flags (§4.7)`,
      tce('tce_iommu_ioctl'),
    );
  const d = tceIommuCreateDefaultWindow(k, caller, c);
  if (d) return d;
  const w = tceIommuFindTable(c, a.iova);
  if (!w)
    return fail(
      'ENXIO',
      `VFIO_IOMMU_UNMAP_DMA: IOVA ${hex(a.iova)} is in no DMA window (${windowsText(c)}) (§4.7)`,
      tce('tce_iommu_ioctl'),
    );
  const { slot, t } = w;
  const ps = BigInt(t.pageSize);
  if (a.size % ps !== 0n)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_UNMAP_DMA: size ${hex(a.size)} is not a multiple of the ${t.pageSize}-byte IOMMU page (§4.7)`,
      tce('tce_iommu_ioctl'),
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
        kernelIommu('iommu_tce_clear_param_check'),
      );
    return fail(
      'EINVAL',
      `VFIO_IOMMU_UNMAP_DMA: the range runs past the end of window slot ${slot}; mainline checks only the first page and would touch slots beyond the table (UNDEFINED, §4.7, Q2): refused`,
      tce('tce_iommu_ioctl'),
    );
  }
  const n = Number(pages);
  const cleared = n ? tceIommuClear(k, caller, c, slot, t, index0, n) : 0;
  return ok(
    `VFIO_IOMMU_UNMAP_DMA: window slot ${slot} entries ${index0}–${index0 + n - 1}: ${cleared} TCEs cleared${c.v2 ? " (regions' mapped counts dropped)" : ' (pages unpinned)'}, empty slots skipped (§4.7)`,
    tce('tce_iommu_ioctl'),
  );
}
