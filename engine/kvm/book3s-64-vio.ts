/**
 * The emulated twin of arch/powerpc/kvm/book3s_64_vio.c (kernel-model.md §13.4–§13.8, `KVIO`, `KVIO-PRE`):
 * KVM's in-kernel sPAPR TCE tables ("stt"), their locked_vm charge, their release, the links to VFIO
 * hardware tables (SET_SPAPR_TCE), and the TCE hypercall handlers H_PUT_TCE, H_PUT_TCE_INDIRECT,
 * H_STUFF_TCE and H_GET_TCE with the in-kernel path that updates linked hardware tables through the
 * pre-registered regions of kvm->mm.
 *
 * The guest-visible table and the hardware table are different objects (§13.1): this file owns the
 * first; the VFIO container owns the second (TceTable), which in-kernel acceleration writes too.
 */
import type { Container } from '../vfio-container.ts';
import type { Region } from '../memory.ts';
import type { TceTable } from '../tce-table.ts';
import type { KRes, KvmVm } from './kvm-main.ts';
import { cite, kvmVio, type Cite, type EraSources } from '../cite.ts';

export const H_SUCCESS = 0;
export const H_BUSY = 1;
export const H_CLOSED = 2;
export const H_HARDWARE = -1;
export const H_FUNCTION = -2;
export const H_PRIVILEGE = -3;
export const H_PARAMETER = -4;
export const H_TOO_HARD = 9999;

export const H_NAMES: Readonly<Record<number, string>> = {
  [H_SUCCESS]: 'H_SUCCESS',
  [H_BUSY]: 'H_BUSY',
  [H_CLOSED]: 'H_CLOSED',
  [H_HARDWARE]: 'H_HARDWARE',
  [H_FUNCTION]: 'H_FUNCTION',
  [H_PRIVILEGE]: 'H_PRIVILEGE',
  [H_PARAMETER]: 'H_PARAMETER',
  [H_TOO_HARD]: 'H_TOO_HARD',
};

const TCE_READ = 1n;
const TCE_WRITE = 2n;
/** sizeof(struct kvmppc_spapr_tce_table) on a 64-bit non-debug build [derived] (§13.4.3) */
const STT_STRUCT_BYTES = 120n;
/** the largest page-allocator block (§14.3): kzalloc of the descriptor fails beyond it [derived] */
const MAX_ALLOC_BYTES = 16n << 20n;
/** TCEs one H_PUT_TCE_INDIRECT may carry (one 4 KiB list page) */
export const MAX_INDIRECT = 512;

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** a link of a KVM table to a VFIO hardware table (struct kvmppc_spapr_tce_iommu_table, §13.1) */
export interface TceLink {
  /** the container whose window table this is, and its slot, for the event deltas */
  container: Container;
  slot: number;
  table: TceTable;
  refs: number;
}

/** struct kvmppc_spapr_tce_table (§13.1) */
export class KvmTceTable {
  open = true;
  /** guest-visible entries by index (entry − offset); absent = 0 (never written, or cleared) */
  readonly entries = new Map<number, bigint>();
  readonly links: TceLink[] = [];

  constructor(
    readonly id: number,
    readonly vm: KvmVm,
    readonly liobn: bigint,
    readonly pageShift: number,
    /** first entry (bus address >> page_shift) */
    readonly offset: bigint,
    /** entries */
    readonly size: bigint,
    /** 4.2 legacy tables: the window size in bytes the ioctl gave (`KVIO-PRE`); else size << page_shift */
    readonly windowSize: bigint,
    /** pages charged to `chargedTo` (kvmppc_stt_pages), 0 when nothing was charged */
    readonly chargedPages: number,
    readonly chargedTo: KvmVm['mm'] | null,
  ) {}

  get(index: number): bigint {
    return this.entries.get(index) ?? 0n;
  }

  /** kvmppc_tce_put: a zero write to an entry never written is skipped (nothing allocated) */
  put(index: number, tce: bigint): void {
    const old = this.entries.get(index) ?? 0n;
    if (tce === 0n) this.entries.delete(index);
    else this.entries.set(index, tce);
    if (old !== tce) this.vm.kvm.host.changes.kvmTce(this.id, index, tce, 2 ** this.pageShift);
  }

  /** links whose hardware table is still the window of its container slot (see Q-K9) */
  liveLinks(): TceLink[] {
    return this.links.filter((l) => l.container.tables[l.slot] === l.table);
  }
}

/** kvmppc_tce_pages / kvmppc_stt_pages (§13.4.3) */
export function sttPages(size: bigint, pageShift: number): { tcePages: bigint; sttPages: bigint } {
  const ps = 1n << BigInt(pageShift);
  const tcePages = (size * 8n + ps - 1n) / ps;
  const stt = tcePages + (STT_STRUCT_BYTES + tcePages * 8n + ps - 1n) / ps;
  return { tcePages, sttPages: stt };
}

// ------------------------------------------------------------------------------------------------
// creation and release

export interface CreateArgs {
  liobn: bigint;
  pageShift: number;
  offset: bigint;
  size: bigint;
  /** legacy ioctl: the window size in bytes as given */
  windowSize: bigint;
  legacy: boolean;
}

/**
 * kvm_vm_ioctl_create_spapr_tce (§13.4): ML/5.x checks, charge to kvm->mm, descriptor, duplicate LIOBN
 * (EBUSY after the charge, Q-K2); 4.2 (`KVIO-PRE`): duplicate LIOBN first, no checks, no charge.
 */
export function createSpaprTce(vm: KvmVm, a: CreateArgs): KRes<{ table: KvmTceTable }> {
  const P = vm.profile;
  const op = a.legacy ? 'KVM_CREATE_SPAPR_TCE' : 'KVM_CREATE_SPAPR_TCE_64';
  const dup = (): KvmTceTable | undefined => vm.tables.find((t) => t.liobn === a.liobn);
  const geometry = `LIOBN ${hex(a.liobn)}: ${a.size} TCEs of 2^${a.pageShift} bytes from entry ${hex(a.offset)}`;
  if (!P.kvmTceCreateChecks) {
    // ≤4.5: the duplicate test comes first; every TCE page is allocated now; nothing is charged
    if (dup())
      return {
        ret: -16,
        explain: `${op}: LIOBN ${hex(a.liobn)} already has a table in this VM (EBUSY, §13.4.2)`,
        cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
      };
    const t = new KvmTceTable(vm.kvm.tableId(), vm, a.liobn, 12, 0n, a.size, a.windowSize, 0, null);
    vm.tables.unshift(t);
    vm.get();
    vm.kvm.host.changes.touchKvmTable(t);
    return {
      ret: 0,
      explain: `${op}: ${geometry}${a.windowSize === 0n ? ' (window_size 0 is not validated: every ioba is out of range)' : ''}; all TCE pages allocated now; this kernel charges no locked_vm for KVM tables (§13.4.2)`,
      out: { table: t },
      cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
    };
  }
  // step 1
  const limit = ((1n << 64n) - 1n) >> BigInt(a.pageShift);
  if (a.size === 0n || a.pageShift < 12 || a.pageShift > 34 || a.offset + a.size > limit) {
    const why =
      a.size === 0n
        ? a.legacy
          ? `window_size ${hex(a.windowSize)} is below 4 KiB: size 0`
          : 'size 0'
        : a.pageShift < 12 || a.pageShift > 34
          ? `page_shift ${a.pageShift} outside 12..34`
          : `offset + size = ${hex(a.offset + a.size)} > (2^64 − 1) >> ${a.pageShift}`;
    return {
      ret: -22,
      explain: `${op}: ${why} (EINVAL, §13.4.1 step 1)`,
      cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
    };
  }
  // step 2: the charge (kvm->mm, with the caller's rlimit and CAP_IPC_LOCK)
  const { sttPages: n } = sttPages(a.size, vm.kvm.host.pageShift);
  const caller = vm.proc;
  let charged = 0;
  if (P.kvmTceCharge === 'kvm-mm') {
    const mm = vm.mm;
    const lim = mm.effectiveLimit(caller.memlock, caller.capIpcLock); // memlock sizing runs
    const limitPages = Number(lim.memlock >> BigInt(mm.pageShift));
    const pages = Number(n);
    if (mm.lockedVm + pages > limitPages && !lim.capIpcLock) {
      mm.noteRefusal('kvmTables', pages, limitPages, lim.memlock);
      return {
        ret: -12,
        explain: `${op}: locked_vm ${mm.lockedVm} + ${pages} pages (kvmppc_stt_pages) would exceed RLIMIT_MEMLOCK (${limitPages} pages) and the process lacks CAP_IPC_LOCK (ENOMEM, §13.4.1 step 2)${dup() ? '; the charge comes before the duplicate-LIOBN test, so a duplicate reports ENOMEM (Q-K2)' : ''}`,
        cite: cite('mm/util.c', '__account_locked_vm'),
      };
    }
    // step 3: the descriptor with its page-pointer array
    const { tcePages } = sttPages(a.size, vm.kvm.host.pageShift);
    if (STT_STRUCT_BYTES + tcePages * 8n > MAX_ALLOC_BYTES)
      return {
        ret: -12,
        explain: `${op}: the descriptor with ${tcePages} page pointers exceeds the largest allocation (ENOMEM, charge returned, §13.4.1 step 3) [derived]`,
        cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
      };
    mm.tryCharge(pages, 'kvmTables', caller.memlock, true);
    vm.kvm.host.changes.touchProcess(mm.pid);
    // step 4: the duplicate test, after the charge
    if (dup()) {
      mm.uncharge(pages, 'kvmTables', P);
      vm.kvm.host.changes.touchProcess(mm.pid);
      return {
        ret: -16,
        explain: `${op}: LIOBN ${hex(a.liobn)} already has a table in this VM (EBUSY, §13.4.1 step 4); the ${pages}-page charge was returned`,
        cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
      };
    }
    charged = pages;
  } else if (dup()) {
    return {
      ret: -16,
      explain: `${op}: LIOBN ${hex(a.liobn)} already has a table in this VM (EBUSY, §13.4.1 step 4)`,
      cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
    };
  }
  const t = new KvmTceTable(
    vm.kvm.tableId(),
    vm,
    a.liobn,
    a.pageShift,
    a.offset,
    a.size,
    a.size << BigInt(a.pageShift),
    charged,
    charged ? vm.mm : null,
  );
  vm.tables.unshift(t);
  vm.get();
  vm.kvm.host.changes.touchKvmTable(t);
  return {
    ret: 0,
    explain: `${op}: ${geometry}${a.legacy ? ' (legacy: 4 KiB TCEs at bus 0)' : ''}; ${charged} pages charged to the VM's mm (kvmppc_stt_pages, §13.4.3); TCE pages are allocated on first use`,
    out: { table: t },
    cite: kvmVio('kvm_vm_ioctl_create_spapr_tce'),
  };
}

/**
 * kvm_spapr_tce_release (§13.5): LIOBN forgotten, every link dropped, charge refunded to kvm->mm, VM
 * reference dropped. Hardware TCEs written by in-kernel acceleration stay (Q-K3).
 */
export function releaseSpaprTce(t: KvmTceTable): string {
  if (!t.open) return 'already closed';
  t.open = false;
  const vm = t.vm;
  const i = vm.tables.indexOf(t);
  if (i >= 0) vm.tables.splice(i, 1);
  const links = t.links.length;
  t.links.length = 0;
  vm.kvm.host.changes.touchKvmTable(t);
  if (t.chargedTo && t.chargedPages) {
    t.chargedTo.uncharge(t.chargedPages, 'kvmTables', vm.profile);
    vm.kvm.host.changes.touchProcess(t.chargedTo.pid);
  }
  vm.put();
  return `KVM table LIOBN ${hex(t.liobn)} released: the LIOBN is unknown to KVM from now on${links ? `, ${links} hardware link(s) dropped` : ''}${t.chargedPages ? `, ${t.chargedPages} pages refunded` : ''}; hardware TCEs it wrote stay in the VFIO table (§13.5, Q-K3)`;
}

// ------------------------------------------------------------------------------------------------
// links to VFIO hardware tables (kvm_spapr_tce_attach_iommu_group / _release_iommu_group, §13.6.3)

/** step 6–8 of SET_SPAPR_TCE once the fds are resolved: find a compatible hardware table and link it */
export function attachIommuGroup(
  t: KvmTceTable,
  windows: { container: Container; slot: number; table: TceTable }[],
): KRes {
  const kvmStart = t.offset << BigInt(t.pageShift);
  const kvmBytes = t.size << BigInt(t.pageShift);
  for (const w of windows) {
    const hw = w.table;
    const hwStart = BigInt(hw.offset) << BigInt(hw.pageShift);
    const hwBytes = BigInt(hw.size) << BigInt(hw.pageShift);
    if (hw.pageShift > t.pageShift || hwStart !== kvmStart || hwBytes < kvmBytes) continue;
    const existing = t.links.find((l) => l.table === hw);
    if (existing) {
      existing.refs++;
      t.vm.kvm.host.changes.touchKvmTable(t);
      return {
        ret: 0,
        explain: `KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE: LIOBN ${hex(t.liobn)} is already linked to window slot ${w.slot} of container ${w.container.id}: one more reference (${existing.refs}) (§13.6.3 step 7, Q-K8)`,
        cite: kvmVio('kvm_spapr_tce_attach_iommu_group'),
      };
    }
    t.links.push({ container: w.container, slot: w.slot, table: hw, refs: 1 });
    t.vm.kvm.host.changes.touchKvmTable(t);
    return {
      ret: 0,
      explain: `KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE: LIOBN ${hex(t.liobn)} (2^${t.pageShift} pages at ${hex(kvmStart)}, ${hex(kvmBytes)} bytes) linked to window slot ${w.slot} of container ${w.container.id} (2^${hw.pageShift} pages, ${hex(hwBytes)} bytes): in-kernel H_PUT_TCE* now update the hardware TCEs; no locked_vm change (§13.6.3 step 8)`,
      cite: kvmVio('kvm_spapr_tce_attach_iommu_group'),
    };
  }
  const have = windows.length
    ? windows
        .map(
          (w) =>
            `slot ${w.slot}: 2^${w.table.pageShift} at ${hex(BigInt(w.table.offset) << BigInt(w.table.pageShift))}, ${hex(BigInt(w.table.size) << BigInt(w.table.pageShift))} bytes`,
        )
        .join('; ')
    : 'the PE has no window (none created yet, or the default window is still pending)';
  return {
    ret: -22,
    explain: `KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE: no hardware window compatible with LIOBN ${hex(t.liobn)} (needs IOMMU page ≤ 2^${t.pageShift}, bus start ${hex(kvmStart)}, size ≥ ${hex(kvmBytes)}); ${have} (EINVAL, §13.6.3 step 6)`,
    cite: kvmVio('kvm_spapr_tce_attach_iommu_group'),
  };
}

/** kvm_spapr_tce_release_iommu_group: every link to one of these hardware tables loses one reference */
export function releaseIommuGroup(vm: KvmVm, tables: readonly (TceTable | null)[]): number {
  let dropped = 0;
  for (const t of vm.tables) {
    for (let i = t.links.length - 1; i >= 0; i--) {
      const l = t.links[i]!;
      if (!tables.includes(l.table)) continue;
      dropped++;
      if (--l.refs === 0) t.links.splice(i, 1);
      vm.kvm.host.changes.touchKvmTable(t);
    }
  }
  return dropped;
}

// ------------------------------------------------------------------------------------------------
// hypercalls (§13.8); results are H_* values, H_TOO_HARD = exit to userspace

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
