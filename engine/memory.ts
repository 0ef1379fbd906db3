/**
 * Models the process side of the kernel's mm that the VFIO driver works on: struct mm_struct's
 * address space, pins (mm/gup.c) and mm->locked_vm.
 * Process memory: the address space (anonymous mappings with deterministic host physical addresses),
 * page pins, pre-registered regions (mm_iommu_table_group_mem_t, kernel-model.md §1.4) and locked_vm
 * accounting against RLIMIT_MEMLOCK (§1.5, §5).
 *
 * Addresses inside the engine are plain numbers: user addresses stay below 2^52 (ppc64 TASK_SIZE) and
 * host physical addresses are allocated below 2^50, so they are exact in doubles. The scenario API's
 * bigint values are converted at the facade.
 */
import { CONTRIBUTOR_KEYS, type Contributor } from '../common/contributors.ts';
import type { LockedVmBreakdown } from './events.ts';
import type { Profile } from './profile.ts';

/** one contiguous piece of an address space backed by contiguous host physical memory */
export interface Extent {
  start: number;
  end: number;
  phys: number;
  /** log2 of the backing page (compound page) size: PAGE_SHIFT, or 24 for 16 MiB hugetlb pages */
  backingShift: number;
  writable: boolean;
  hugetlb: boolean;
}

export type { Contributor };

export function emptyBreakdown(): LockedVmBreakdown {
  return Object.fromEntries(CONTRIBUTOR_KEYS.map((k) => [k, 0])) as LockedVmBreakdown;
}

/** A pre-registered region of one mm (§1.4). */
export class Region {
  /** mm_iommu "mapped": bias of 1 plus one per TCE pointing into the region; 0 once released */
  mapped = 1;
  /** registration references */
  used = 1;
  /** containers whose prereg_list holds a reference (mainline only; empty = orphaned, §4.9) */
  readonly containers = new Set<number>();
  released = false;
  /** ua and size as bigints, made once for the events */
  readonly uaBig: bigint;
  readonly sizeBig: bigint;

  constructor(
    readonly id: number,
    readonly mm: Mm,
    readonly ua: number,
    readonly entries: number,
    readonly size: number,
    /** the pinned pages, as the extents that backed [ua, ua+size) at registration (the hpas[] array) */
    readonly extents: Extent[],
    /** mainline mem->pageshift; undefined in 4.2 */
    readonly pageShift: number | undefined,
  ) {
    this.uaBig = BigInt(ua);
    this.sizeBig = BigInt(size);
  }

  get end(): number {
    return this.ua + this.size;
  }

  contains(ua: number, len: number): boolean {
    return ua >= this.ua && ua + len <= this.end;
  }

  /** the extent translating ua; the region covers its range completely */
  extentAt(ua: number): Extent {
    for (const e of this.extents) if (ua >= e.start && ua < e.end) return e;
    throw new Error(`region ${this.id}: no extent for ${ua.toString(16)}`);
  }
}

/**
 * How a run checks RLIMIT_MEMLOCK for one mm (memlock sizing, scenario-api.md §4.1): as the kernel does
 * (null), not at all ('unchecked': every charge is counted, as with CAP_IPC_LOCK), or against a forced
 * limit in bytes that replaces the process's own setrlimit values and ignores CAP_IPC_LOCK (the
 * verification reruns).
 */
export type MemlockOverride = null | 'unchecked' | { memlock: bigint };

/** The facts of a charge RLIMIT_MEMLOCK refused (§1.5), for advice shown next to the kernel's why. */
export interface MemlockRefusal {
  /** pid of the mm charged */
  pid: number;
  /** the contributor the charge was for (a LockedVmBreakdown key) */
  contributor: string;
  /** pages the call tried to charge */
  charge: number;
  /** locked_vm before the charge, pages */
  lockedVm: number;
  /** rlimit >> PAGE_SHIFT */
  limitPages: number;
  /** soft RLIMIT_MEMLOCK in bytes the check used */
  memlock: bigint;
  /** system page size of the host, bytes */
  pageSize: number;
}

export class Mm {
  lockedVm = 0;
  readonly breakdown: LockedVmBreakdown = emptyBreakdown();
  /** the breakdown when locked_vm reached `peak` (a copy taken at that charge) */
  peakBreakdown: LockedVmBreakdown = emptyBreakdown();
  /** memlock sizing runs: how RLIMIT_MEMLOCK is checked for this mm (null: as the kernel does) */
  override: MemlockOverride = null;
  /** the last refused charge, until the recorder takes it for the event of the call */
  refusal: MemlockRefusal | null = null;
  /** pre-registered regions, newest first (list_add_rcu at the head, §1.4) */
  regions: Region[] = [];
  /** mappings sorted by start */
  mappings: Extent[] = [];
  /** false once the address space is torn down (process exit) */
  alive = true;
  peak = 0;

  constructor(
    readonly pid: number,
    readonly pageShift: number,
  ) {}

  // ---- address space -------------------------------------------------------------------------

  /** the mapping containing ua, or undefined */
  mappingAt(ua: number): Extent | undefined {
    const m = this.mappings;
    let lo = 0;
    let hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = m[mid]!;
      if (ua < e.start) hi = mid - 1;
      else if (ua >= e.end) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  overlapsMapping(start: number, end: number): boolean {
    return this.mappings.some((e) => e.start < end && start < e.end);
  }

  addMapping(e: Extent): void {
    this.mappings.push(e);
    this.mappings.sort((a, b) => a.start - b.start);
  }

  /** removes [start, end) from the address space, splitting mappings; pinned pages stay with their regions */
  removeRange(start: number, end: number): void {
    const out: Extent[] = [];
    for (const e of this.mappings) {
      if (e.end <= start || e.start >= end) {
        out.push(e);
        continue;
      }
      if (e.start < start) out.push({ ...e, end: start });
      if (e.end > end) out.push({ ...e, start: end, phys: e.phys + (end - e.start) });
    }
    this.mappings = out;
  }

  /**
   * The extents backing [ua, ua+len) for a pin with write access, or the first address that cannot be
   * pinned (unmapped, or read-only: every pin here requests write access, §4.6.3 / Q6).
   */
  pinnableExtents(ua: number, len: number): { extents: Extent[] } | { fault: number } {
    const extents: Extent[] = [];
    let a = ua;
    const end = ua + len;
    while (a < end) {
      const e = this.mappingAt(a);
      if (!e || !e.writable) return { fault: a };
      const stop = Math.min(end, e.end);
      extents.push({ ...e, start: a, end: stop, phys: e.phys + (a - e.start) });
      a = stop;
    }
    return { extents };
  }

  // ---- pre-registered regions ----------------------------------------------------------------

  /** mm_iommu_lookup: newest region containing the whole [ua, ua+len) (§4.6.4 step 1) */
  lookup(ua: number, len: number): Region | undefined {
    for (const r of this.regions) if (ua >= r.ua && ua + len <= r.ua + r.size) return r;
    return undefined;
  }

  /** mm_iommu_find / mm_iommu_get exact match on (ua, entries) */
  findExact(ua: number, entries: number): Region | undefined {
    return this.regions.find((r) => r.ua === ua && r.entries === entries);
  }

  // ---- locked_vm -----------------------------------------------------------------------------

  /**
   * Increment by n pages (§1.5): ENOMEM iff locked_vm + n > rlimit >> PAGE_SHIFT without CAP_IPC_LOCK;
   * equality is allowed and CAP_IPC_LOCK bypasses the check (the counter still grows).
   * Returns the limit in pages when refused, else null.
   */
  tryCharge(n: number, what: Contributor, memlock: bigint, capIpcLock: boolean): number | null {
    if (n === 0) return null;
    ({ memlock, capIpcLock } = this.effectiveLimit(memlock, capIpcLock));
    const limit = Number(memlock >> BigInt(this.pageShift));
    if (this.lockedVm + n > limit && !capIpcLock) {
      this.noteRefusal(what, n, limit, memlock);
      return limit;
    }
    this.lockedVm += n;
    this.breakdown[what] += n;
    this.notePeak();
    return null;
  }

  /** after an increment: a new peak remembers what it was made of (memlock sizing) */
  notePeak(): void {
    if (this.lockedVm > this.peak) {
      this.peak = this.lockedVm;
      this.peakBreakdown = { ...this.breakdown };
    }
  }

  /**
   * The RLIMIT_MEMLOCK and CAP_IPC_LOCK a limit check of this mm uses: the process's own, or what a memlock
   * sizing run forces (`override`: unchecked behaves as CAP_IPC_LOCK; a forced limit ignores CAP_IPC_LOCK).
   * Every place that tests an increment against the limit (account_locked_vm, the KVM TCE charge, mlock)
   * asks here first.
   */
  effectiveLimit(memlock: bigint, capIpcLock: boolean): { memlock: bigint; capIpcLock: boolean } {
    const o = this.override;
    if (o === null) return { memlock, capIpcLock };
    if (o === 'unchecked') return { memlock, capIpcLock: true };
    return { memlock: o.memlock, capIpcLock: false };
  }

  /** records a charge the limit refused, for the event of the call (memlock advice) */
  noteRefusal(what: string, n: number, limitPages: number, memlock: bigint): void {
    this.refusal = {
      pid: this.pid,
      contributor: what,
      charge: n,
      lockedVm: this.lockedVm,
      limitPages,
      memlock,
      pageSize: 2 ** this.pageShift,
    };
  }

  /**
   * Decrement by n pages (§1.5): 4.2 clamps at 0 (with a warning); mainline subtracts unconditionally.
   * The breakdown is taken from the named contributor first; a clamped or cross-contributor remainder is
   * taken from the others so that the contributors always sum to locked_vm.
   */
  uncharge(n: number, what: Contributor, profile: Profile): void {
    if (n === 0) return;
    const amount = profile.decrementClampsAtZero ? Math.min(n, this.lockedVm) : n;
    this.lockedVm -= amount;
    let rest = amount;
    const take = (k: Contributor): void => {
      const t = Math.min(rest, Math.max(this.breakdown[k], 0));
      this.breakdown[k] -= t;
      rest -= t;
    };
    take(what);
    // what is left comes off the other contributors, top of the stack first
    for (const k of [...CONTRIBUTOR_KEYS].reverse()) if (rest > 0) take(k);
    if (rest > 0) this.breakdown[what] -= rest; // mainline underflow: visible as a negative contributor
  }

  /** move pages from one contributor to another (a charge the kernel will never return becomes a leak) */
  reclassify(n: number, from: Contributor, to: Contributor): void {
    this.breakdown[from] -= n;
    this.breakdown[to] += n;
  }
}
