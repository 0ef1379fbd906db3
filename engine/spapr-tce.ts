/**
 * Models drivers/vfio/vfio_iommu_spapr_tce.c, the driver core: tce_iommu_attach_group,
 * tce_iommu_detach_group, tce_iommu_release, tce_iommu_mm_set, tce_iommu_enable, tce_iommu_disable,
 * tce_iommu_find_table and the GET_INFO and default cases of tce_iommu_ioctl (kernel-model.md §4.2–§4.5,
 * §4.13). MAP/UNMAP are in spapr-tce-map.ts, windows in spapr-tce-ddw.ts, pre-registration in
 * spapr-tce-prereg.ts.
 */
import { tceIommuClearTable, tceIommuIoctlMmCheck, tceIommuMmSet } from './spapr-tce-build.ts';
import { tceIommuCreateWindow, tceIommuFreeTable } from './spapr-tce-ddw.ts';
import type { Container, Kernel, Proc } from './kernel.ts';
import type { Group } from './pci-ioda.ts';
import { type Res, fail, hex, ok } from './result.ts';
import { kernelIommu, tce } from './cite.ts';
import { TceTable } from './tce-table.ts';
import { accountLockedVm, accountingMm, decrementLockedVm } from './locked-vm.ts';
import { mmIommuPut } from './iommu-api.ts';
import { viewPages } from './pci-ioda-tce.ts';

/**
 * tce_iommu_attach_group: the driver side of SET_IOMMU and of a later SET_CONTAINER (§4.2), by era
 * (profile.attachRules); the group goes to the head of the driver's list (§14.5).
 */
export function tceIommuAttachGroup(k: Kernel, caller: Proc, c: Container, g: Group): Res {
  const r = ATTACH[k.profile.attachRules](k, caller, c, g);
  if (r.ret !== 0) return r;
  c.attached.unshift(g);
  k.changes.touchGroup(g);
  k.changes.touchContainer(c);
  return ok('attached', tce('tce_iommu_attach_group'));
}

/** the same-group and same-ops tests every era makes against the groups already attached */
function attachedConflict(c: Container, g: Group, opsWord: string, rule: string): Res<never> | null {
  for (const a of c.attached) {
    if (a === g) return fail('EBUSY', `${g.name} is already attached (§4.2)`, tce('tce_iommu_attach_group'));
    if (a.phb.opsId !== g.phb.opsId)
      return fail(
        'EPERM',
        `${g.name} has ${opsWord} than ${a.name} (${rule}, §7.2)`,
        tce('tce_iommu_attach_group'),
      );
  }
  return null;
}

/**
 * tce_iommu_take_ownership (4.2, 5.x): a group without table-group ops lends VFIO the kernel's own table,
 * taken with iommu_take_ownership (EBUSY while the kernel still has DMA mappings in it). 4.2 charges the
 * table's userspace view first and keeps that charge when the take fails [derived].
 */
function tceIommuTakeOwnership(k: Kernel, caller: Proc, c: Container, g: Group): Res {
  const size = Number(g.tce32Size >> 12n);
  const vp = k.profile.borrowedViewCharged ? viewPages(size, k.pageShift) : 0;
  if (vp) {
    const e = accountLockedVm(
      k,
      caller,
      c,
      vp,
      'views',
      `attaching ${g.name}: userspace view of the borrowed kernel table`,
    );
    if (e) return e;
  }
  if (g.kernelDma) {
    // the view charged for the failing table stays charged: a leak [derived] (§4.2 item 4)
    if (vp) accountingMm(k, caller, c)?.reclassify(vp, 'views', 'leaked');
    return fail(
      'EBUSY',
      `${g.name}: the host kernel still has DMA mappings in its table (it_map bits set), iommu_take_ownership refuses (§4.2 item 4, §7.1)${vp ? `; the ${vp}-page view charge is not returned [derived]` : ''}`,
      kernelIommu('iommu_take_ownership'),
    );
  }
  const t = new TceTable({
    id: k.ids.next('table'),
    pageShift: 12,
    offset: Number(g.tce32Start >> 12n),
    size,
    levels: 1,
    tablePages: 0,
    viewPages: vp,
    borrowed: true,
    meter: k.meter,
  });
  g.borrowed = t;
  g.owner = 'vfio';
  c.tables[0] = t;
  k.changes.touchWindow(c, 0);
  return ok('taken', tce('tce_iommu_take_ownership'));
}

/** 4.2 (§4.2 4.2 items 1–6): the default window is created at the first IODA2 attach */
function attach42(k: Kernel, caller: Proc, c: Container, g: Group): Res {
  const hasOps = g.hasOps(k.profile);
  if (c.attached.length > 0 && !hasOps)
    return fail(
      'EBUSY',
      `${g.name} has no take/release ownership ops and the container already has a group (§4.2 4.2 item 1)`,
      tce('tce_iommu_attach_group'),
    );
  const x = attachedConflict(c, g, 'different table-group ops', '§4.2 4.2 item 2');
  if (x) return x;
  if (!hasOps) return tceIommuTakeOwnership(k, caller, c, g);
  g.owner = 'vfio'; // platform take: bypass off, kernel window 0 removed (§1.1)
  if (c.attached.length === 0 && !c.tables[0]) {
    const r = tceIommuCreateWindow(k, caller, c, g, 12, g.tce32Size, 1, 'default window');
    if (r.ret !== 0) {
      g.owner = 'kernel';
      return {
        ret: r.ret,
        explain: `creating the default 32-bit window at attach failed: ${r.explain}`,
        cite: r.cite,
      };
    }
  }
  tceIommuTakeOwnershipDdw(c, g);
  return ok('attached', tce('tce_iommu_attach_group'));
}

/** 5.x (§4.2 5.x): v2 needs a group with ops, v1 one without; the default window is deferred */
function attach5x(k: Kernel, caller: Proc, c: Container, g: Group): Res {
  const hasOps = g.hasOps(k.profile);
  if (c.attached.length > 0 && !hasOps)
    return fail(
      'EBUSY',
      `${g.name} has no take/release ownership ops and the container already has a group (§4.2 5.x)`,
      tce('tce_iommu_attach_group'),
    );
  const x = attachedConflict(c, g, 'a different create_table op', '§4.2 5.x');
  if (x) return x;
  if (!hasOps) {
    if (c.v2)
      return fail(
        'EPERM',
        `${g.name} has no table-group ops (no dynamic DMA windows): a v2 container cannot use it in 5.x (§4.2 5.x, §7.2)`,
        tce('tce_iommu_attach_group'),
      );
    return tceIommuTakeOwnership(k, caller, c, g);
  }
  if (!c.v2)
    return fail(
      'EPERM',
      `${g.name} has table-group ops (DDW-capable): 5.x refuses it to a v1 container (§4.2 5.x, §7.2)`,
      tce('tce_iommu_attach_group'),
    );
  g.owner = 'vfio';
  tceIommuTakeOwnershipDdw(c, g);
  if (c.attached.length === 0 && !c.tables[0]) c.defWindowPending = true; // nothing charged
  return ok('attached', tce('tce_iommu_attach_group'));
}

/** mainline (§4.2 mainline items 1–8): ownership was taken at SET_CONTAINER; the default window is deferred */
function attachMainline(_k: Kernel, _caller: Proc, c: Container, g: Group): Res {
  if (c.v2 && g.maxDynamicWindows === 0)
    return fail(
      'EINVAL',
      `${g.name} supports no dynamic DMA windows (max_dynamic_windows_supported = 0), which v2 requires (§4.2 mainline item 3)`,
      tce('tce_iommu_attach_group'),
    );
  if (!c.v2 && c.attached.length > 0)
    return fail(
      'EBUSY',
      'a v1 container takes only one group in mainline (§4.2 mainline item 4, §7.2)',
      tce('tce_iommu_attach_group'),
    );
  const x = attachedConflict(c, g, 'a different create_table op', '§4.2 mainline item 5');
  if (x) return x;
  tceIommuTakeOwnershipDdw(c, g);
  if (c.attached.length === 0 && !c.tables[0]) c.defWindowPending = true; // item 8: nothing charged
  return ok('attached', tce('tce_iommu_attach_group'));
}

const ATTACH: Record<Kernel['profile']['attachRules'], typeof attach42> = {
  '4.2': attach42,
  '5.x': attach5x,
  mainline: attachMainline,
};

export function tceIommuTakeOwnershipDdw(c: Container, g: Group): void {
  for (let s = 0; s < 2; s++) g.programmed[s] = c.tables[s] ? c.tables[s]!.id : null;
}

export function tceIommuDetachGroup(k: Kernel, caller: Proc, c: Container, g: Group): void {
  const P = k.profile;
  if (!g.hasOps(P)) {
    // 4.2/5.x borrowed table: clear it, free its view (4.2), give it_map back (§4.13)
    const t = c.tables[0];
    if (t && t.borrowed) {
      tceIommuClearTable(k, caller, c, 0, t);
      decrementLockedVm(k, caller, c, t.viewPages, 'views');
      c.tables[0] = null;
      k.changes.touchWindow(c, 0);
    }
    g.borrowed = null;
    g.owner = 'kernel';
  } else if (P.detachClearsTces) {
    // mainline (Q9): every TCE of the container is cleared before the slot is unset on this PE
    for (let s = 0; s < 2; s++) {
      const t = c.tables[s];
      if (t) tceIommuClearTable(k, caller, c, s, t);
      g.programmed[s] = null;
    }
  } else {
    // 4.2/5.x: unset the slots on that PE, platform release; TCEs and tables kept
    g.programmed[0] = g.programmed[1] = null;
    g.owner = 'kernel';
  }
  c.attached.splice(c.attached.indexOf(g), 1);
  k.changes.touchGroup(g);
  k.changes.touchContainer(c);
}

/** driver release: the last group left (§4.13, §5.6) */
export function tceIommuRelease(k: Kernel, caller: Proc, c: Container): void {
  for (const g of [...c.attached]) tceIommuDetachGroup(k, caller, c, g);
  for (let s = 0; s < 2; s++) {
    const t = c.tables[s];
    if (t) tceIommuFreeTable(k, caller, c, s, t);
  }
  if (k.profile.releasePutsRegions) {
    for (const r of [...c.prereg]) {
      c.prereg.delete(r);
      r.containers.delete(c.id);
      mmIommuPut(k, caller, c, r);
    }
  }
  if (c.enabled && !c.v2) decrementLockedVm(k, caller, c, c.lockedPages, 'v1Enable');
  c.driver = null;
  c.v2 = false;
  c.enabled = false;
  c.lockedPages = 0;
  c.defWindowPending = false;
  c.mm = null;
  k.changes.touchContainer(c);
}

export function tceIommuIoctlGetInfo(
  k: Kernel,
  caller: Proc,
  c: Container,
  argsz: number,
): Res<{
  flags: number;
  dma32WindowStart: bigint;
  dma32WindowSize: bigint;
  ddw: { pgsizes: bigint; maxDynamicWindowsSupported: number; levels: number };
}> {
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  const g = c.firstGroup;
  if (!g)
    return fail('ENXIO', 'VFIO_IOMMU_SPAPR_TCE_GET_INFO: no group attached (§4.3)', tce('tce_iommu_ioctl'));
  if (argsz < 16)
    return fail(
      'EINVAL',
      `VFIO_IOMMU_SPAPR_TCE_GET_INFO: argsz ${argsz} < 16 (§4.3)`,
      tce('tce_iommu_ioctl'),
    );
  const ddw = g.maxDynamicWindows !== 0 && c.v2;
  const out = {
    flags: ddw ? 1 : 0,
    dma32WindowStart: g.tce32Start,
    dma32WindowSize: g.tce32Size,
    // the ddw block is copied out only when argsz covers it (§4.3): a shorter buffer keeps zeros
    ddw:
      ddw && argsz >= 32
        ? { pgsizes: g.pgsizes, maxDynamicWindowsSupported: g.maxDynamicWindows, levels: g.maxLevels }
        : { pgsizes: 0n, maxDynamicWindowsSupported: 0, levels: 0 },
  };
  const why = ddw
    ? 'DDW reported (v2 container, group with dynamic windows)'
    : c.v2
      ? 'no DDW: the group has no dynamic windows'
      : 'no DDW: a v1 container never reports it';
  return ok(
    `32-bit window ${hex(g.tce32Start)}+${hex(g.tce32Size)} of ${g.name}; ${why}${argsz < 32 ? '; argsz < 32: ddw not copied' : ''} (§4.3)`,
    tce('tce_iommu_ioctl'),
    out,
  );
}

export function tceIommuEnable(k: Kernel, caller: Proc, c: Container): Res {
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (c.v2)
    return fail(
      'ENOTTY',
      'VFIO_IOMMU_ENABLE is a v1 ioctl; a v2 container answers ENOTTY (§4.4, §3 item 6)',
      tce('tce_iommu_ioctl'),
    );
  if (k.profile.accountTo === 'current' && !caller.currentMm)
    return fail('ESRCH', 'VFIO_IOMMU_ENABLE: the calling task has no mm (§4.4)', tce('tce_iommu_enable'));
  if (c.enabled)
    return fail(
      'EBUSY',
      'VFIO_IOMMU_ENABLE: the container is already enabled (§4.4)',
      tce('tce_iommu_enable'),
    );
  const g = c.firstGroup;
  if (!g) return fail('ENODEV', 'VFIO_IOMMU_ENABLE: no group attached (§4.4)', tce('tce_iommu_enable'));
  if (g.tce32Size === 0n)
    return fail(
      'EPERM',
      `VFIO_IOMMU_ENABLE: ${g.name} has no 32-bit window (tce32_size 0) (§4.4)`,
      tce('tce_iommu_enable'),
    );
  const m = tceIommuMmSet(k, caller, c);
  if (m) return m;
  const pages = Number(g.tce32Size >> BigInt(k.pageShift));
  const e = accountLockedVm(k, caller, c, pages, 'v1Enable', 'VFIO_IOMMU_ENABLE');
  if (e) return e;
  c.lockedPages = pages;
  c.enabled = true;
  k.changes.touchContainer(c);
  return ok(
    `VFIO_IOMMU_ENABLE: charged the whole 32-bit window of ${g.name}, ${hex(g.tce32Size)} bytes = ${pages} pages, regardless of what will be mapped (§4.4, §5.3)`,
    tce('tce_iommu_enable'),
  );
}

export function tceIommuDisable(k: Kernel, caller: Proc, c: Container): Res {
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (c.v2)
    return fail(
      'ENOTTY',
      'VFIO_IOMMU_DISABLE is a v1 ioctl; a v2 container answers ENOTTY (§4.5)',
      tce('tce_iommu_ioctl'),
    );
  if (!c.enabled)
    return ok('VFIO_IOMMU_DISABLE: not enabled, nothing to do (§4.5)', tce('tce_iommu_disable'));
  c.enabled = false;
  decrementLockedVm(k, caller, c, c.lockedPages, 'v1Enable');
  const pages = c.lockedPages;
  c.lockedPages = 0;
  k.changes.touchContainer(c);
  return ok(
    `VFIO_IOMMU_DISABLE: ${pages} pages un-charged; existing TCEs and their pins stay (§4.5, Q11)`,
    tce('tce_iommu_disable'),
  );
}

/** a request the sPAPR driver does not know: ENOTTY, after mainline's cross-mm check (§3 items 6, 7) */
export function tceIommuIoctlDefault(k: Kernel, caller: Proc, c: Container, label: string): Res {
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  return fail(
    'ENOTTY',
    `request ${label} is not a container ioctl the sPAPR driver knows: ENOTTY (§3 item 6)`,
    tce('tce_iommu_ioctl'),
  );
}
