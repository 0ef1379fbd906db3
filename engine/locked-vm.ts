/**
 * Models mm/util.c account_locked_vm (mainline; 4.2: the driver's own try_increment_locked_vm and
 * decrement_locked_vm in drivers/vfio/vfio_iommu_spapr_tce.c): charging and un-charging locked_vm
 * against RLIMIT_MEMLOCK (kernel-model.md §1.5, §5). Which mm is charged is the profile's `accountTo`.
 */
import type { Container, Kernel, Proc } from './kernel.ts';
import type { Contributor, Mm } from './memory.ts';
import { fail, type Res } from './result.ts';
import type { Cite } from './cite.ts';

/** the mm an accounting call targets: current->mm (4.2) or container->mm (mainline), §1.5 */
export function accountingMm(k: Kernel, caller: Proc, c: Container): Mm | null {
  return k.profile.accountTo === 'current' ? caller.currentMm : (c.mm ?? caller.currentMm);
}

/** charges n pages; returns an ENOMEM result when RLIMIT_MEMLOCK refuses, else null */
export function accountLockedVm(
  k: Kernel,
  caller: Proc,
  c: Container,
  n: number,
  what: Contributor,
  label: string,
  charge: Cite = k.profile.src.driverCharge,
): Res<never> | null {
  const mm = accountingMm(k, caller, c);
  if (!mm) return fail('ESRCH', `${label}: the calling task has no mm (§4.4)`, charge);
  const owner = k.procs.find((q) => q.mm === mm) ?? caller;
  const limit = mm.tryCharge(n, what, owner.memlock, owner.capIpcLock);
  if (limit !== null) {
    return fail(
      'ENOMEM',
      `${label}: locked_vm ${mm.lockedVm} + ${n} pages would exceed RLIMIT_MEMLOCK ` +
        `(${limit} pages = ${owner.memlock} bytes) and the process lacks CAP_IPC_LOCK (§1.5, §5.1)`,
      charge,
    );
  }
  k.changes.touchProcess(mm.pid);
  return null;
}

export function decrementLockedVm(k: Kernel, caller: Proc, c: Container, n: number, what: Contributor): void {
  const mm = accountingMm(k, caller, c);
  if (!mm) return; // 4.2: decrements are skipped without current->mm (§5.6)
  mm.uncharge(n, what, k.profile);
  k.changes.touchProcess(mm.pid);
}
