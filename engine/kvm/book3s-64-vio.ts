/**
 * The emulated twin of arch/powerpc/kvm/book3s_64_vio.c (kernel-model.md §13.4–§13.8, `KVIO`, `KVIO-PRE`):
 * KVM's in-kernel sPAPR TCE tables ("stt"), their locked_vm charge, their release and the links to VFIO
 * hardware tables (SET_SPAPR_TCE). The TCE hypercall handlers of the same kernel file, with the in-kernel
 * path that updates linked hardware tables, are in book3s-64-vio-hcalls.ts.
 *
 * The guest-visible table and the hardware table are different objects (§13.1): this file owns the
 * first; the VFIO container owns the second (TceTable), which in-kernel acceleration writes too.
 */
import type { Container } from '../vfio-container.ts';
import type { TceTable } from '../tce-table.ts';
import type { KRes, KvmVm } from './kvm-main.ts';
import { cite, kvmVio } from '../cite.ts';

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

export const TCE_READ = 1n;
export const TCE_WRITE = 2n;
/** sizeof(struct kvmppc_spapr_tce_table) on a 64-bit non-debug build [derived] (§13.4.3) */
const STT_STRUCT_BYTES = 120n;
/** the largest page-allocator block (§14.3): kzalloc of the descriptor fails beyond it [derived] */
const MAX_ALLOC_BYTES = 16n << 20n;
/** TCEs one H_PUT_TCE_INDIRECT may carry (one 4 KiB list page) */
export const MAX_INDIRECT = 512;

export const hex = (n: number | bigint): string => '0x' + n.toString(16);

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
