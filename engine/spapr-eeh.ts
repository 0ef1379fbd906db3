/**
 * Models drivers/vfio/vfio_spapr_eeh.c: vfio_spapr_iommu_eeh_ioctl, the VFIO_EEH_PE_OP container ioctl
 * the sPAPR TCE driver forwards to it (kernel-model.md §4.12).
 */
import { tceIommuIoctlMmCheck } from './spapr-tce-build.ts';
import type { Container, Kernel, Proc } from './kernel.ts';
import { type Res, fail, hex, ok } from './result.ts';

export function vfioSpaprIommuEehIoctl(
  k: Kernel,
  caller: Proc,
  c: Container,
  a: { op: number; flags: number; argsz: number },
): Res {
  const x = tceIommuIoctlMmCheck(k, caller, c);
  if (x) return x;
  if (c.attached.length === 0)
    return ok('VFIO_EEH_PE_OP: no group attached, nothing to do (§4.12)', k.profile.src.eehPeOp);
  for (const g of c.attached) {
    if (!k.eeh)
      return fail(
        'ENODEV',
        `VFIO_EEH_PE_OP: EEH is disabled on this host, ${g.name} has no EEH PE (§4.12) [derived]`,
        k.profile.src.eehPeOp,
      );
    if (a.argsz < 12)
      return fail('EINVAL', `VFIO_EEH_PE_OP: argsz ${a.argsz} < 12 (§4.12)`, k.profile.src.eehPeOp);
    if (a.flags !== 0)
      return fail('EINVAL', `VFIO_EEH_PE_OP: flags ${hex(a.flags)} must be 0 (§4.12)`, k.profile.src.eehPeOp);
    if (a.op === 4)
      return {
        ret: 0,
        explain: `VFIO_EEH_PE_OP GET_STATE: ${g.name} is in state 0 (normal); the state is the ioctl's return value (§4.12)`,
        cite: k.profile.src.eehPeOp,
      };
    if (a.op === 9 && k.profile.eehInjectErr) {
      if (a.argsz < 40)
        return fail(
          'EINVAL',
          `VFIO_EEH_PE_OP INJECT_ERR: argsz ${a.argsz} < 40 (§4.12)`,
          k.profile.src.eehPeOp,
        );
    } else if (!(a.op >= 0 && a.op <= 8)) {
      return fail('EINVAL', `VFIO_EEH_PE_OP: unknown op ${a.op} (§4.12)`, k.profile.src.eehPeOp);
    }
  }
  return ok(
    `VFIO_EEH_PE_OP op ${a.op} forwarded to ${c.attached.map((g) => g.name).join(', ')} (§4.12)`,
    k.profile.src.eehPeOp,
  );
}
