/**
 * Models drivers/vfio/vfio_iommu_spapr_tce.c, the dynamic DMA window half: tce_iommu_create_table,
 * tce_iommu_create_window, tce_iommu_create_default_window, tce_iommu_remove_window and the
 * VFIO_IOMMU_SPAPR_TCE_CREATE / _REMOVE cases of tce_iommu_ioctl (kernel-model.md §4.10, §4.11, §8).
 */
import { tceIommuClearTable, tceIommuIoctlMmCheck, tceIommuMmSet, windowsText } from './spapr-tce-build.ts';
import type { Container, Kernel, Proc } from './kernel.ts';
import type { Group } from './pci-ioda.ts';
import { type Res, fail, hex, ok } from './result.ts';
import { pciIoda, tce } from './cite.ts';
import { TceTable } from './tce-table.ts';
import { accountLockedVm, accountingMm, decrementLockedVm } from './locked-vm.ts';
import { getTableSize, platformAcceptsLevels, tableGeometry, viewPages } from './pci-ioda-tce.ts';

/** mainline: create the pending default window before MAP/UNMAP/CREATE (§4.6.1 step 5, Q7) */
export function tceIommuCreateDefaultWindow(k: Kernel, caller: Proc, c: Container): Res | null {
  if (!c.defWindowPending) return null;
  const g = c.firstGroup;
  if (!g)
    return fail(
      'ENODEV',
      'creating the pending default window: no group attached (§4.10)',
      tce('tce_iommu_create_default_window'),
    );
  const r = tceIommuCreateWindow(k, caller, c, g, 12, g.tce32Size, 1, 'default window');
  if (r.ret !== 0)
    return { ret: r.ret, explain: `creating the pending default window failed: ${r.explain}`, cite: r.cite };
  c.defWindowPending = false;
  k.changes.touchContainer(c);
  return null;
}

/** tce_iommu_create_window: lowest free slot; charges; programs every attached PE */
export function tceIommuCreateWindow(
  k: Kernel,
  caller: Proc,
  c: Container,
  g: Group,
  pageShift: number,
  windowSize: bigint,
  levels: number,
  what: string,
): Res<{ startAddr: bigint; slot: number }> {
  const P = k.profile;
  const slot = c.tables[0] ? (c.tables[1] ? -1 : 1) : 0;
  if (slot < 0)
    return fail(
      'ENOSPC',
      `both window slots are in use (${windowsText(c)}) (§4.10 step 2)`,
      tce('tce_iommu_create_window'),
    );
  if (
    !Number.isInteger(pageShift) ||
    pageShift < 0 ||
    pageShift > 63 ||
    ((g.pgsizes >> BigInt(pageShift)) & 1n) === 0n
  ) {
    return fail(
      'EINVAL',
      `page shift ${pageShift} is not in the group's supported page sizes ${hex(g.pgsizes)} (§4.10 step 4)`,
      tce('tce_iommu_create_window'),
    );
  }
  if (!g.hasOps(P))
    return fail(
      'EPERM',
      `${g.name} has no table-group ops to create windows (§4.10 step 5)`,
      tce('tce_iommu_create_window'),
    );
  const geo = tableGeometry(P, pageShift, windowSize, levels, k.pageShift, k.ramSize);
  if (!geo) {
    const why =
      levels === 0 || levels > 5
        ? `levels ${levels} is not 1..5`
        : windowSize <= 0n || (windowSize & (windowSize - 1n)) !== 0n
          ? `window size ${hex(windowSize)} is not a power of two`
          : `window size ${hex(windowSize)} is larger than host RAM ${hex(k.ramSize)}`;
    return fail(
      'EINVAL',
      `get_table_size returned 0: ${why} (§4.10 step 6, §5.2)`,
      pciIoda('pnv_pci_ioda2_get_table_size'),
    );
  }
  const tableBytes = getTableSize(P, geo);
  const tablePages = Number(tableBytes >> BigInt(k.pageShift));
  const e = accountLockedVm(
    k,
    caller,
    c,
    tablePages,
    'tables',
    `TCE table of the ${what} (${tableBytes} bytes)`,
  );
  if (e) return e;
  if (!platformAcceptsLevels(P, geo, levels, pageShift)) {
    const bits = (geo.levelShift - 3) * levels + pageShift;
    if (P.createLeaksChargeOnPlatformFailure) {
      accountingMm(k, caller, c)?.reclassify(tablePages, 'tables', 'leaked');
      return fail(
        'EINVAL',
        `the platform refuses ${levels} levels of 2^${geo.levelShift}-byte tables: (${geo.levelShift} - 3) * ${levels} + ${pageShift} = ${bits} >= ${P.platformAddressBits}; the ${tablePages}-page charge is not returned (§4.10, Q4) [derived]`,
        P.src.tableAllocPages,
      );
    }
    decrementLockedVm(k, caller, c, tablePages, 'tables');
    return fail(
      'EINVAL',
      `the platform refuses ${levels} levels of 2^${geo.levelShift}-byte tables: (${geo.levelShift} - 3) * ${levels} + ${pageShift} = ${bits} >= ${P.platformAddressBits}; charge returned (§4.10 step 8)`,
      P.src.tableAllocPages,
    );
  }
  // §14.3 (D3): each level is one page-allocator block; a level above the largest block fails the
  // allocation (pnv_pci_ioda2_table_alloc_pages / pnv_alloc_tce_level) with ENOMEM after the charge
  if (2 ** geo.levelShift > k.maxAllocBytes) {
    const level = `a ${levels}-level table of 2^${geo.entriesShift} TCEs needs 2^${geo.levelShift}-byte levels, above the largest page-allocator block (${k.maxAllocBytes} bytes = PAGE_SIZE << max order)`;
    if (P.createLeaksChargeOnPlatformFailure) {
      accountingMm(k, caller, c)?.reclassify(tablePages, 'tables', 'leaked');
      return fail(
        'ENOMEM',
        `${level}; tce_iommu_create_table does not return the ${tablePages}-page charge (§14.3, D3) [derived]`,
        P.src.tableAllocLevel,
      );
    }
    decrementLockedVm(k, caller, c, tablePages, 'tables');
    return fail(
      'ENOMEM',
      `${level}; tce_iommu_create_table returns the charge (§14.3, D3)`,
      P.src.tableAllocLevel,
    );
  }
  // §14.1 (D1): the table is at least one system page, so it_size is at least PAGE_SIZE/8 TCEs and the
  // window spans it_size << page_shift whatever was asked (pnv_pci_setup_iommu_table)
  const entries = Math.max(2 ** geo.entriesShift, k.pageSize / 8);
  let vp = 0;
  if (P.separateViewCharge && c.v2) {
    vp = viewPages(entries, k.pageShift);
    const ev = accountLockedVm(k, caller, c, vp, 'views', `userspace view of the ${what}`);
    if (ev) {
      decrementLockedVm(k, caller, c, tablePages, 'tables');
      return ev;
    }
  }
  const bus = g.slotBusAddr(slot);
  const t = new TceTable({
    id: k.ids.next('table'),
    pageShift,
    offset: Number(bus >> BigInt(pageShift)),
    size: entries,
    levels,
    tablePages,
    viewPages: vp,
    borrowed: false,
    meter: k.meter,
  });
  c.tables[slot] = t;
  for (const a of c.attached) a.programmed[slot] = t.id;
  if (!c.attached.includes(g)) g.programmed[slot] = t.id; // the group being attached right now
  k.changes.touchWindow(c, slot);
  k.changes.touchContainer(c);
  return ok(
    `${what}: slot ${slot} at ${hex(bus)}, ${hex(windowSize)} bytes of 2^${pageShift}-byte pages, ${levels} level(s); table ${tablePages} pages${vp ? ` + view ${vp} pages` : ''} charged (§4.10, §5.2)`,
    tce('tce_iommu_create_window'),
    { startAddr: bus, slot },
  );
}

export function tceIommuIoctlTceCreate(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { pageShift: number; windowSize: bigint; levels: number; flags: number; argsz: number },
): Res<{ startAddr: bigint }> {
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (!c.v2)
    return fail(
      'ENOTTY',
      'VFIO_IOMMU_SPAPR_TCE_CREATE is a v2 ioctl; a v1 container answers ENOTTY (§4.10)',
      tce('tce_iommu_ioctl'),
    );
  const m = tceIommuMmSet(k, caller, c);
  if (m) return m;
  const g = c.firstGroup;
  if (!g)
    return fail('ENXIO', 'VFIO_IOMMU_SPAPR_TCE_CREATE: no group attached (§4.10)', tce('tce_iommu_ioctl'));
  if (a.argsz < 40)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_TCE_CREATE: argsz ${a.argsz} < 40 (§4.10)`,
      tce('tce_iommu_ioctl'),
    );
  if (a.flags !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_TCE_CREATE: flags ${hex(a.flags)} must be 0 (§4.10)`,
      tce('tce_iommu_ioctl'),
    );
  const d = tceIommuCreateDefaultWindow(k, caller, c);
  if (d) return d as Res<never>;
  const r = tceIommuCreateWindow(k, caller, c, g, a.pageShift, a.windowSize, a.levels, 'window');
  if (r.ret !== 0) return { ret: r.ret, explain: `VFIO_IOMMU_SPAPR_TCE_CREATE: ${r.explain}`, cite: r.cite };
  return ok(
    `VFIO_IOMMU_SPAPR_TCE_CREATE: ${r.explain}; start_addr is chosen by the platform (lowest free slot)`,
    tce('tce_iommu_create_window'),
    { startAddr: r.out!.startAddr },
  );
}

/** frees a window: clear its TCEs, unset it in every PE, un-charge table (+view) (§4.11, §5.1) */
export function tceIommuFreeTable(k: Kernel, caller: Proc, c: Container, slot: number, t: TceTable): number {
  const cleared = tceIommuClearTable(k, caller, c, slot, t);
  for (const g of k.groups) if (g.programmed[slot] === t.id) g.programmed[slot] = null;
  if (!t.borrowed) {
    decrementLockedVm(k, caller, c, t.tablePages, 'tables');
    if (t.viewPages) decrementLockedVm(k, caller, c, t.viewPages, 'views');
  }
  c.tables[slot] = null;
  k.changes.touchWindow(c, slot);
  k.changes.touchContainer(c);
  return cleared;
}

export function tceIommuRemoveWindow(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { startAddr: bigint; flags: number; argsz: number },
): Res {
  const P = k.profile;
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (!c.v2)
    return fail(
      'ENOTTY',
      'VFIO_IOMMU_SPAPR_TCE_REMOVE is a v2 ioctl; a v1 container answers ENOTTY (§4.11)',
      tce('tce_iommu_ioctl'),
    );
  const m = tceIommuMmSet(k, caller, c);
  if (m) return m;
  if (!c.firstGroup)
    return fail('ENXIO', 'VFIO_IOMMU_SPAPR_TCE_REMOVE: no group attached (§4.11)', tce('tce_iommu_ioctl'));
  if (a.argsz < 16)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_TCE_REMOVE: argsz ${a.argsz} < 16 (§4.11)`,
      tce('tce_iommu_ioctl'),
    );
  if (a.flags !== 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_TCE_REMOVE: flags ${hex(a.flags)} must be 0 (§4.11)`,
      tce('tce_iommu_ioctl'),
    );
  if (c.defWindowPending && a.startAddr === 0n) {
    c.defWindowPending = false;
    k.changes.touchContainer(c);
    return ok(
      'VFIO_IOMMU_SPAPR_TCE_REMOVE(0): the default window was still pending; the pending flag is dropped, nothing was created or charged (§4.11, Q8)',
      tce('tce_iommu_ioctl'),
    );
  }
  let slot = -1;
  for (let s = 0; s < 2; s++) {
    const t = c.tables[s];
    if (t && a.startAddr >= t.startAddr && a.startAddr < t.startAddr + t.windowSize) {
      slot = s;
      break;
    }
  }
  if (slot < 0)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_TCE_REMOVE: ${hex(a.startAddr)} is in no window (${windowsText(c)})${c.defWindowPending ? '; the default window is pending and only REMOVE(0) drops it' : ''} (§4.11)`,
      tce('tce_iommu_remove_window'),
    );
  const t = c.tables[slot]!;
  // 4.2: each attached PE must be able to unset the window; groups without table-group ops (IODA1,
  // VFIO borrowing the kernel's table) cannot (§4.11)
  const noOps = c.attached.find((g) => !g.hasOps(P));
  if (noOps)
    return fail(
      'EPERM',
      `VFIO_IOMMU_SPAPR_TCE_REMOVE: ${noOps.name} has no table-group ops to unset a window; its 32-bit window is the kernel's own table, borrowed (§4.11)`,
      tce('tce_iommu_remove_window'),
    );
  const pages = t.tablePages + t.viewPages;
  const cleared = tceIommuFreeTable(k, caller, c, slot, t);
  return ok(
    `VFIO_IOMMU_SPAPR_TCE_REMOVE: window slot ${slot} at ${hex(t.startAddr)} removed${cleared ? `, ${cleared} live TCEs torn down` : ''}; ${pages} table pages un-charged (§4.11)`,
    tce('tce_iommu_remove_window'),
  );
}
