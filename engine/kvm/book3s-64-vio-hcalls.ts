/**
 * The emulated twin of arch/powerpc/kvm/book3s_64_vio.c, its hypercall half (kernel-model.md §13.8,
 * `KVIO`, `KVIO-PRE`): the TCE hypercall handlers H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE and H_GET_TCE
 * (kvmppc_h_put_tce, kvmppc_h_put_tce_indirect, kvmppc_h_stuff_tce, kvmppc_h_get_tce) with the in-kernel
 * path that updates linked hardware tables through the pre-registered regions of kvm->mm. In the real-mode
 * era (4.2, POWER8) the handlers that answered lived in arch/powerpc/kvm/book3s_64_vio_hv.c; the profile's
 * cites name that file there. The tables themselves are in book3s-64-vio.ts.
 */
import type { Region } from '../memory.ts';
import type { KvmVm } from './kvm-main.ts';
import { kvmVio, type Cite, type EraSources } from '../cite.ts';
import {
  H_PARAMETER,
  H_SUCCESS,
  H_TOO_HARD,
  hex,
  KvmTceTable,
  MAX_INDIRECT,
  TCE_READ,
  TCE_WRITE,
  type TceLink,
} from './book3s-64-vio.ts';

export interface HRes {
  ret: number;
  explain: string;
  /** the kernel (or, for QEMU's answers, QEMU) function that decides it */
  cite: Cite;
  value?: bigint;
}

const HCALL_SRC: Readonly<Record<string, keyof EraSources>> = {
  H_PUT_TCE: 'hPutTce',
  H_PUT_TCE_INDIRECT: 'hPutTceIndirect',
  H_STUFF_TCE: 'hStuffTce',
  H_GET_TCE: 'hGetTce',
};

/** the in-kernel handler of a TCE hypercall in this profile (its file moved with the real-mode handlers) */
function hcallCite(vm: KvmVm, hcall: string): Cite {
  return vm.profile.src[HCALL_SRC[hcall] ?? 'hPutTce'];
}

function findTable(vm: KvmVm, liobn: bigint): KvmTceTable | undefined {
  return vm.tables.find((t) => t.liobn === liobn);
}

function tooHard(explain: string, cite: Cite): HRes {
  return { ret: H_TOO_HARD, explain, cite };
}

/** kvmppc_ioba_validate = iommu_tce_check_ioba (first entry only, §13.8); ranges past the end: Q-K1 */
function iobaCheck(t: KvmTceTable, ioba: bigint, npages: number, hcall: string): HRes | null {
  const ps = BigInt(t.pageShift);
  if (ioba & ((1n << ps) - 1n))
    return {
      ret: H_PARAMETER,
      explain: `${hcall}: ioba ${hex(ioba)} is not aligned to the table's 2^${t.pageShift}-byte page (H_PARAMETER, iommu_tce_check_ioba, §13.8)`,
      cite: hcallCite(t.vm, hcall),
    };
  const e = ioba >> ps;
  if (e < t.offset || e + 1n > t.offset + t.size)
    return {
      ret: H_PARAMETER,
      explain: `${hcall}: ioba ${hex(ioba)} is outside LIOBN ${hex(t.liobn)}'s window ${hex(t.offset << ps)}..${hex(((t.offset + t.size) << ps) - 1n)} (H_PARAMETER, §13.8)`,
      cite: hcallCite(t.vm, hcall),
    };
  if (npages > 1 && e + BigInt(npages) > t.offset + t.size)
    return {
      ret: H_PARAMETER,
      explain: `${hcall}: ${npages} entries from ioba ${hex(ioba)} run past the window end; the kernel checks the first entry only and would write beyond the table (UNDEFINED, Q-K1): refused with H_PARAMETER`,
      cite: hcallCite(t.vm, hcall),
    };
  return null;
}

/** 4.2's check (`KVIOHV-PRE`): `ioba >= window_size` only; the index is ioba >> 12 */
function windowBytesCheck(t: KvmTceTable, ioba: bigint, hcall: string): HRes | null {
  if (ioba >= t.windowSize)
    return {
      ret: H_PARAMETER,
      explain: `${hcall}: ioba ${hex(ioba)} ≥ window_size ${hex(t.windowSize)} (H_PARAMETER, §13.8.1 4.2)`,
      cite: hcallCite(t.vm, hcall),
    };
  return null;
}

/**
 * kvmppc_tce_validate (§13.8): permission-less TCEs always pass; otherwise the address must be aligned
 * to the KVM page, inside a memslot, and (for every linked hardware table) inside a pre-registered
 * region of kvm->mm that can back the hardware page size.
 */
function validate(t: KvmTceTable, tce: bigint, hcall: string): HRes | null {
  if ((tce & (TCE_READ | TCE_WRITE)) === 0n) return null;
  const gpa = tce & ~3n;
  const ps = BigInt(t.pageShift);
  if (gpa & ((1n << ps) - 1n))
    return tooHard(
      `${hcall}: TCE ${hex(tce)}: address ${hex(gpa)} is not aligned to the table's 2^${t.pageShift}-byte page: exit to userspace (H_TOO_HARD, kvmppc_tce_validate, §13.8.5)`,
      kvmVio('kvmppc_tce_validate'),
    );
  const ua = t.vm.gpaToUa(tce & ~3n);
  if (ua === null)
    return tooHard(
      `${hcall}: TCE ${hex(tce)}: guest address ${hex(gpa)} is in no memslot: exit to userspace (H_TOO_HARD, §13.8.5)`,
      kvmVio('kvmppc_tce_validate'),
    );
  for (const l of t.liveLinks()) {
    const len = l.table.pageSize;
    const r = ua < 2n ** 52n ? t.vm.mm.lookup(Number(ua), len) : undefined;
    if (!r)
      return tooHard(
        `${hcall}: TCE ${hex(tce)}: user address ${hex(ua)} is not in memory pre-registered by the VM's mm: exit to userspace (H_TOO_HARD, kvmppc_tce_validate, §13.8.5)`,
        kvmVio('kvmppc_tce_validate'),
      );
    if (r.pageShift !== undefined && l.table.pageShift > r.pageShift)
      return tooHard(
        `${hcall}: TCE ${hex(tce)}: the region at ${hex(r.ua)} cannot back 2^${l.table.pageShift}-byte IOMMU pages (pageshift ${r.pageShift}): exit (H_TOO_HARD, §13.8.5)`,
        kvmVio('kvmppc_tce_validate'),
      );
  }
  return null;
}

/** iommu_tce_direction + pnv_tce_xchg's forced READ (§1.2) */
function hwPerm(t: KvmTceTable, tce: bigint): number {
  let p = Number(tce & 3n);
  if (p & 2 && t.vm.profile.forceReadWithWrite) p |= 1;
  return p;
}

/** mapped-- on the region of kvm->mm holding `ua` (kvmppc_tce_iommu_mapped_dec); the bias of 1 stays */
function mappedDec(t: KvmTceTable, ua: number, len: number, touched: Set<Region>): void {
  const r = t.vm.mm.lookup(ua, len);
  if (r && r.mapped > 1) {
    r.mapped--;
    touched.add(r);
  }
}

/** kvmppc_tce_iommu_unmap: clear the 2^(kvm−hw) hardware entries of KVM entry `entry` on one link */
function hwUnmap(t: KvmTceTable, l: TceLink, entry: bigint, touched: Set<Region>): number {
  const hw = l.table;
  const n = 2 ** (t.pageShift - hw.pageShift);
  const start = Number(entry) * n - hw.offset;
  let cleared = 0;
  for (let k = 0; k < n; k++) {
    const idx = start + k;
    const chunk = hw.chunkAt(idx);
    if (!chunk) continue;
    const o = idx & (chunk.tce.length - 1);
    if (chunk.tce[o] === 0) continue;
    const ua = chunk.ua[o]!;
    chunk.tce[o] = 0;
    chunk.ua[o] = 0;
    chunk.valid--;
    hw.valid--;
    cleared++;
    if (ua) mappedDec(t, ua, hw.pageSize, touched);
  }
  if (cleared) t.vm.kvm.host.changes.tceClear(l.container.id, l.slot, hw.id, start, n);
  return cleared;
}

/** kvmppc_tce_iommu_map: map KVM entry `entry` (user address ua) onto one link, subpage by subpage */
function hwMap(
  t: KvmTceTable,
  l: TceLink,
  entry: bigint,
  ua: number,
  perm: number,
  touched: Set<Region>,
): HRes | null {
  const hw = l.table;
  const n = 2 ** (t.pageShift - hw.pageShift);
  const start = Number(entry) * n - hw.offset;
  const ps = hw.pageSize;
  const changes = t.vm.kvm.host.changes;
  for (let k = 0; k < n; k++) {
    const idx = start + k;
    const u = ua + k * ps;
    const r = t.vm.mm.lookup(u, ps);
    if (!r) {
      hwUnmap(t, l, entry, touched); // an internal failure clears the entry on this table (§13.8.1 step 4)
      return tooHard(
        `hardware map: ${hex(u)} is no longer pre-registered (H_TOO_HARD) [not reachable after validation]`,
        kvmVio('kvmppc_tce_iommu_map'),
      );
    }
    const e = r.extentAt(u);
    const phys = e.phys + (u - e.start);
    r.mapped++;
    touched.add(r);
    const chunk = hw.chunkFor(idx);
    const o = idx & (chunk.tce.length - 1);
    const old = chunk.tce[o]!;
    const oldUa = chunk.ua[o]!;
    if (old === 0) {
      chunk.valid++;
      hw.valid++;
    }
    chunk.tce[o] = phys + perm;
    chunk.ua[o] = u;
    if (old !== 0 && oldUa) mappedDec(t, oldUa, ps, touched);
    changes.tceRun(l.container.id, l.slot, hw.id, idx, 1, phys + perm, u, ps);
  }
  return null;
}

function flushRegions(t: KvmTceTable, touched: Set<Region>): void {
  for (const r of touched) t.vm.kvm.host.changes.touchRegion(r);
}

function linksText(t: KvmTceTable): string {
  const ls = t.liveLinks();
  return ls.length
    ? ls.map((l) => `container ${l.container.id} slot ${l.slot}`).join(', ')
    : 'no linked hardware table';
}

/** H_PUT_TCE (§13.8.1) */
export function hPutTce(vm: KvmVm, liobn: bigint, ioba: bigint, tce: bigint): HRes {
  const t = findTable(vm, liobn);
  if (!t)
    return tooHard(
      `H_PUT_TCE: LIOBN ${hex(liobn)} has no KVM table in this VM: exit to userspace (H_TOO_HARD, §13.8.5)`,
      vm.profile.src.hPutTce,
    );
  if (vm.profile.kvmHcallChecks === 'window-bytes') {
    const bad = windowBytesCheck(t, ioba, 'H_PUT_TCE');
    if (bad) return bad;
    const idx = Number(ioba >> 12n);
    t.put(idx, tce);
    return {
      ret: H_SUCCESS,
      explain: `H_PUT_TCE: T[${idx}] = ${hex(tce)} (index ioba >> 12: no alignment check and no check of the TCE value, "FIXME: Need to validate the TCE itself", §13.8.1 4.2); KVM tables are never linked to VFIO in this kernel`,
      cite: vm.profile.src.hPutTce,
    };
  }
  const bad = iobaCheck(t, ioba, 1, 'H_PUT_TCE') ?? validate(t, tce, 'H_PUT_TCE');
  if (bad) return bad;
  const entry = ioba >> BigInt(t.pageShift);
  const idx = Number(entry - t.offset);
  const touched = new Set<Region>();
  const clear = (tce & 3n) === 0n;
  const links = t.liveLinks();
  let hwText = '';
  if (links.length) {
    if (clear) {
      let n = 0;
      for (const l of links) n += hwUnmap(t, l, entry, touched);
      hwText = `; ${n} hardware TCE(s) cleared (${linksText(t)})`;
    } else {
      const ua = Number(vm.gpaToUa(tce & ~3n)!);
      for (const l of links) {
        const err = hwMap(t, l, entry, ua, hwPerm(t, tce), touched);
        if (err) {
          flushRegions(t, touched);
          return err;
        }
      }
      hwText = `; hardware TCEs of ${linksText(t)} now point at user ${hex(ua)} through the pre-registered region (mapped +1 per IOMMU page)`;
    }
  }
  flushRegions(t, touched);
  t.put(idx, tce);
  return {
    ret: H_SUCCESS,
    explain: `H_PUT_TCE: T[${idx}] = ${hex(tce)}${hwText}${links.length ? '' : ' (no linked hardware table: guest view only)'} (kvmppc_h_put_tce, §13.8.1)`,
    cite: vm.profile.src.hPutTce,
  };
}

/** H_PUT_TCE_INDIRECT (§13.8.2); `tces` is the list as read from guest memory (missing entries read 0) */
export function hPutTceIndirect(
  vm: KvmVm,
  liobn: bigint,
  ioba: bigint,
  listGpa: bigint,
  npages: number,
  tces: readonly bigint[],
): HRes {
  const op = 'H_PUT_TCE_INDIRECT';
  const t = findTable(vm, liobn);
  if (!t)
    return tooHard(
      `${op}: LIOBN ${hex(liobn)} has no KVM table in this VM: exit to userspace (H_TOO_HARD, §13.8.5)`,
      vm.profile.src.hPutTceIndirect,
    );
  if (npages > MAX_INDIRECT)
    return {
      ret: H_PARAMETER,
      explain: `${op}: npages ${npages} > 512 (H_PARAMETER, §13.8.2 step 2)`,
      cite: vm.profile.src.hPutTceIndirect,
    };
  if (listGpa & 0xfffn)
    return {
      ret: H_PARAMETER,
      explain: `${op}: the TCE list at ${hex(listGpa)} is not 4 KiB aligned (H_PARAMETER, §13.8.2 step 3)`,
      cite: vm.profile.src.hPutTceIndirect,
    };
  const bad = iobaCheck(t, ioba, npages, op);
  if (bad) return bad;
  if (vm.gpaToUa(listGpa) === null)
    return tooHard(
      `${op}: the TCE list at guest ${hex(listGpa)} is in no memslot: exit to userspace (H_TOO_HARD, §13.8.2 step 5)`,
      vm.profile.src.hPutTceIndirect,
    );
  const list = Array.from({ length: npages }, (_, i) => tces[i] ?? 0n);
  for (let i = 0; i < npages; i++) {
    const v = validate(t, list[i]!, `${op} entry ${i}`);
    if (v)
      return {
        ret: v.ret,
        explain: `${v.explain}; nothing was changed (every TCE is validated first, §13.8.2 step 6)`,
        cite: v.cite,
      };
  }
  const entry0 = ioba >> BigInt(t.pageShift);
  const touched = new Set<Region>();
  const links = t.liveLinks();
  for (let i = 0; i < npages; i++) {
    const tce = list[i]!;
    const entry = entry0 + BigInt(i);
    const ua = vm.gpaToUa(tce & ~3n);
    if (ua === null) {
      flushRegions(t, touched);
      return {
        ret: H_PARAMETER,
        explain: `${op}: entry ${i} (${hex(tce)}) has no permission bits and its address is in no memslot (H_PARAMETER, §13.8.2 step 7); entries 0..${i - 1} stay written [derived]`,
        cite: vm.profile.src.hPutTceIndirect,
      };
    }
    for (const l of links) {
      // also for permission-less TCEs (Q-K4 [derived]): the page is mapped with no permission bits
      const err = hwMap(t, l, entry, Number(ua), hwPerm(t, tce), touched);
      if (err) {
        flushRegions(t, touched);
        return err;
      }
    }
    t.put(Number(entry - t.offset), tce);
  }
  flushRegions(t, touched);
  const idx0 = Number(entry0 - t.offset);
  return {
    ret: H_SUCCESS,
    explain: `${op}: T[${idx0}..${idx0 + npages - 1}] written from the list at ${hex(listGpa)}${links.length ? `; hardware TCEs of ${linksText(t)} mapped through pre-registered memory` : ''} (kvmppc_h_put_tce_indirect, §13.8.2)`,
    cite: vm.profile.src.hPutTceIndirect,
  };
}

/** H_STUFF_TCE (§13.8.3): the kernel only clears */
export function hStuffTce(vm: KvmVm, liobn: bigint, ioba: bigint, value: bigint, npages: number): HRes {
  const op = 'H_STUFF_TCE';
  const t = findTable(vm, liobn);
  if (!t)
    return tooHard(
      `${op}: LIOBN ${hex(liobn)} has no KVM table in this VM: exit to userspace (H_TOO_HARD, §13.8.5)`,
      vm.profile.src.hStuffTce,
    );
  const bad = iobaCheck(t, ioba, npages, op);
  if (bad) return bad;
  if (value & (TCE_READ | TCE_WRITE))
    return {
      ret: H_PARAMETER,
      explain: `${op}: value ${hex(value)} has R/W bits; the kernel only clears (H_PARAMETER, §13.8.3 step 3)`,
      cite: vm.profile.src.hStuffTce,
    };
  const entry0 = ioba >> BigInt(t.pageShift);
  const touched = new Set<Region>();
  let cleared = 0;
  for (const l of t.liveLinks())
    for (let i = 0; i < npages; i++) cleared += hwUnmap(t, l, entry0 + BigInt(i), touched);
  flushRegions(t, touched);
  const idx0 = Number(entry0 - t.offset);
  for (let i = 0; i < npages; i++) t.put(idx0 + i, value);
  return {
    ret: H_SUCCESS,
    explain: `${op}: T[${idx0}..${idx0 + npages - 1}] = ${hex(value)}${cleared ? `; ${cleared} hardware TCE(s) cleared` : ''} (kvmppc_h_stuff_tce, §13.8.3)`,
    cite: vm.profile.src.hStuffTce,
  };
}

/** H_GET_TCE (§13.8.4): the guest-visible entry, never the hardware one (Q-K5) */
export function hGetTce(vm: KvmVm, liobn: bigint, ioba: bigint): HRes {
  const op = 'H_GET_TCE';
  const t = findTable(vm, liobn);
  if (!t)
    return tooHard(
      `${op}: LIOBN ${hex(liobn)} has no KVM table in this VM: exit to userspace (H_TOO_HARD, §13.8.5)`,
      vm.profile.src.hGetTce,
    );
  let idx: number;
  if (vm.profile.kvmHcallChecks === 'window-bytes') {
    const bad = windowBytesCheck(t, ioba, op);
    if (bad) return bad;
    idx = Number(ioba >> 12n);
  } else {
    const bad = iobaCheck(t, ioba, 1, op);
    if (bad) return bad;
    idx = Number((ioba >> BigInt(t.pageShift)) - t.offset);
  }
  const value = t.get(idx);
  return {
    ret: H_SUCCESS,
    value,
    explain: `${op}: T[${idx}] = ${hex(value)} (the guest-visible entry; the hardware table is not read, Q-K5, §13.8.4)`,
    cite: vm.profile.src.hGetTce,
  };
}
