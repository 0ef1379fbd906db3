/**
 * Models mm/mlock.c.
 * mlock(2) / munlock(2) and VM_LOCKED pages in locked_vm (kernel-model.md §13.10.3, `MLOCKML`, `MLOCK4X`).
 *
 * mm->locked_vm counts VM_LOCKED pages and, independently, every account_locked_vm() charge (VFIO
 * ENABLE/REGISTER/window tables, KVM TCE tables): guest RAM that is both mlocked and pre-registered is
 * counted twice. The VM_LOCKED ranges of an mm are kept here as sorted, disjoint [start, end) intervals
 * of user addresses; hugetlb mappings are neither flagged nor counted (`MLOCKML:mlock_fixup`).
 */
import type { Mm } from '../memory.ts';
import { mmMlock, type Cite } from '../cite.ts';

export interface MlockResult {
  /** 0 or -errno name */
  errno: 'EPERM' | 'ENOMEM' | null;
  explain: string;
  cite: Cite;
  /** pages whose VM_LOCKED state changed (added to or removed from locked_vm) */
  pages: number;
}

interface LockState {
  /** VM_LOCKED ranges, sorted, disjoint, page aligned */
  ranges: [number, number][];
}

const states = new WeakMap<Mm, LockState>();

function stateOf(mm: Mm): LockState {
  let s = states.get(mm);
  if (!s) {
    s = { ranges: [] };
    states.set(mm, s);
  }
  return s;
}

/** bytes of [start, end) that are VM_LOCKED */
function lockedBytes(s: LockState, start: number, end: number): number {
  let n = 0;
  for (const [a, b] of s.ranges) {
    const lo = Math.max(a, start);
    const hi = Math.min(b, end);
    if (hi > lo) n += hi - lo;
  }
  return n;
}

function addRange(s: LockState, start: number, end: number): void {
  const out: [number, number][] = [];
  let a = start;
  let b = end;
  for (const r of s.ranges) {
    if (r[1] < a || r[0] > b) out.push(r);
    else {
      a = Math.min(a, r[0]);
      b = Math.max(b, r[1]);
    }
  }
  out.push([a, b]);
  out.sort((x, y) => x[0] - y[0]);
  s.ranges = out;
}

function removeRange(s: LockState, start: number, end: number): void {
  const out: [number, number][] = [];
  for (const [a, b] of s.ranges) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  s.ranges = out;
}

/** the page-widened range (§13.10.3: "the range is widened to whole pages") */
function widen(mm: Mm, addr: number, len: number): [number, number] {
  const ps = 2 ** mm.pageShift;
  const start = Math.floor(addr / ps) * ps;
  const end = Math.ceil((addr + len) / ps) * ps;
  return [start, end];
}

/** VM_LOCKED pages of the mm (what the `mlocked` contributor shows) */
export function mlockedPages(mm: Mm): number {
  return lockedBytes(stateOf(mm), 0, Number.MAX_SAFE_INTEGER) / 2 ** mm.pageShift;
}

/**
 * Walks the mappings of [start, end) in order and calls fn on each piece; stops at the first hole and
 * returns its address (apply_vma_lock_flags: a hole ends the walk with ENOMEM), else null.
 */
function walk(
  mm: Mm,
  start: number,
  end: number,
  fn: (a: number, b: number, hugetlb: boolean) => void,
): number | null {
  let a = start;
  while (a < end) {
    const e = mm.mappingAt(a);
    if (!e) return a;
    const b = Math.min(end, e.end);
    fn(a, b, e.hugetlb);
    a = b;
  }
  return null;
}

/**
 * do_mlock (§13.10.3). `subtractLocked`: the ≈v4.9+ adjustment (count_mm_mlocked_page_nr) that takes
 * pages already VM_LOCKED out of the limit test; 4.2 tests `len + locked_vm` as is (Q-K10).
 */
export function mlock(
  mm: Mm,
  addr: number,
  len: number,
  memlock: bigint,
  capIpcLock: boolean,
  subtractLocked: boolean,
): MlockResult {
  const ps = 2 ** mm.pageShift;
  ({ memlock, capIpcLock } = mm.effectiveLimit(memlock, capIpcLock)); // memlock sizing runs
  if (memlock === 0n && !capIpcLock)
    return {
      errno: 'EPERM',
      pages: 0,
      explain:
        'mlock: RLIMIT_MEMLOCK is 0 and the process lacks CAP_IPC_LOCK: can_do_mlock() is false (§13.10.3)',
      cite: mmMlock('do_mlock'),
    };
  const [start, end] = widen(mm, addr, len);
  const s = stateOf(mm);
  const lenPages = (end - start) / ps;
  const limit = Number(memlock >> BigInt(mm.pageShift));
  let locked = lenPages + mm.lockedVm;
  let note = '';
  if (locked > limit && !capIpcLock && subtractLocked) {
    const already = lockedBytes(s, start, end) / ps;
    locked -= already;
    if (already) note = ` (${already} pages of the range already locked are not counted again)`;
  }
  if (locked > limit && !capIpcLock) {
    mm.noteRefusal('mlocked', locked - mm.lockedVm, limit, memlock);
    return {
      errno: 'ENOMEM',
      pages: 0,
      explain: `mlock: ${lenPages} pages + locked_vm ${mm.lockedVm}${note} = ${locked} > RLIMIT_MEMLOCK ${limit} pages and no CAP_IPC_LOCK${subtractLocked ? '' : '; this kernel does not subtract pages that are already locked (Q-K10)'} (§13.10.3)`,
      cite: mmMlock('do_mlock'),
    };
  }
  let added = 0;
  let huge = 0;
  const hole = walk(mm, start, end, (a, b, hugetlb) => {
    if (hugetlb) {
      huge += (b - a) / ps;
      return;
    }
    added += (b - a - lockedBytes(s, a, b)) / ps;
    addRange(s, a, b);
  });
  mm.lockedVm += added;
  mm.breakdown.mlocked += added;
  mm.notePeak();
  const hugeNote = huge ? `; ${huge} hugetlb pages are neither flagged nor counted` : '';
  if (hole !== null)
    return {
      errno: 'ENOMEM',
      pages: added,
      explain: `mlock: 0x${hole.toString(16)} is not mapped: a hole in the range ends the walk with ENOMEM; the ${added} pages before it are locked and counted (§13.10.3)${hugeNote}`,
      cite: mmMlock('apply_vma_lock_flags'),
    };
  return {
    errno: null,
    pages: added,
    explain: `mlock: ${added} pages became VM_LOCKED and were added to locked_vm${added < lenPages - huge ? ` (${lenPages - huge - added} were locked already)` : ''}; they count again if the same memory is pre-registered (§13.10.3)${hugeNote}`,
    cite: mmMlock('do_mlock'),
  };
}

/** munlock(2): locked_vm drops by the VM_LOCKED pages of the range */
export function munlock(mm: Mm, addr: number, len: number): MlockResult {
  const ps = 2 ** mm.pageShift;
  const [start, end] = widen(mm, addr, len);
  const s = stateOf(mm);
  let removed = 0;
  const hole = walk(mm, start, end, (a, b) => {
    removed += lockedBytes(s, a, b) / ps;
    removeRange(s, a, b);
  });
  mm.lockedVm -= removed;
  mm.breakdown.mlocked -= removed;
  if (hole !== null)
    return {
      errno: 'ENOMEM',
      pages: removed,
      explain: `munlock: 0x${hole.toString(16)} is not mapped: ENOMEM after unlocking the ${removed} pages before the hole (§13.10.3)`,
      cite: mmMlock('apply_vma_lock_flags'),
    };
  return {
    errno: null,
    pages: removed,
    explain: `munlock: ${removed} VM_LOCKED pages unlocked, locked_vm −${removed} (§13.10.3)`,
    cite: mmMlock('apply_vma_lock_flags'),
  };
}

/** munmap of [start, end): VM_LOCKED pages leave locked_vm (§13.10.3); returns how many */
export function unmapLocked(mm: Mm, start: number, end: number): number {
  const s = stateOf(mm);
  const n = lockedBytes(s, start, end) / 2 ** mm.pageShift;
  if (n) {
    removeRange(s, start, end);
    mm.lockedVm -= n;
    mm.breakdown.mlocked -= n;
  }
  return n;
}
