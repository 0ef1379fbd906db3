/**
 * Models arch/powerpc/kernel/iommu.c: the generic IOMMU table checks the sPAPR driver calls before it
 * writes or clears TCEs (iommu_tce_put_param_check, iommu_tce_clear_param_check; kernel-model.md §4.6.1).
 */
import type { Kernel } from './kernel.ts';
import { fail, type Res } from './result.ts';
import type { Cite } from './cite.ts';

/** UNMAP checks with iommu_tce_clear_param_check, MAP with iommu_tce_put_param_check (profile.src) */
function paramCheck(k: Kernel, op: string): Cite {
  return op === 'VFIO_IOMMU_UNMAP_DMA' ? k.profile.src.clearParamCheck : k.profile.src.putParamCheck;
}

/** the param-check macros: -EINVAL in 4.2, +1 in 5.x/mainline (§4.6.2, Q1) */
export function iommuTceParamCheckFailed(k: Kernel, op: string, why: string): Res {
  if (k.profile.misalignedIovaRet === 'PLUS_ONE') {
    return {
      ret: 1,
      explain: `${op}: ${why}; the OR'ed param-check macro evaluates to 1 and the ioctl returns +1 without mapping anything (§4.6.2, Q1) [derived]`,
      cite: paramCheck(k, op),
    };
  }
  return fail('EINVAL', `${op}: ${why} (§4.6.1 check 9)`, paramCheck(k, op));
}
