/**
 * The hypercall dispatch of arch/powerpc/kvm/book3s_hv.c for the TCE calls (kernel-model.md §13.7,
 * `KHV:kvmppc_pseries_do_hcall`): an hcall whose bit is not set in the VM's enabled bitmap exits to
 * userspace before any argument is looked at; otherwise the handler of book3s-64-vio.ts runs, and its
 * H_TOO_HARD exits to userspace too. Which handler answered (real or virtual mode) comes from the profile.
 */
import { kvmHv } from '../cite.ts';
import { H_TOO_HARD } from './book3s-64-vio.ts';
import { hGetTce, hPutTce, hPutTceIndirect, hStuffTce, type HRes } from './book3s-64-vio-hcalls.ts';
import { H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE } from './era.ts';
import type { KvmVm } from './kvm-main.ts';
import { HCALL_NAMES } from './powerpc.ts';

export interface HcallArgs {
  hcall: number;
  liobn: bigint;
  ioba: bigint;
  tce?: bigint;
  tces?: readonly bigint[];
  listGpa?: bigint;
  npages?: number;
}

export interface Dispatched extends HRes {
  handledBy: 'kernel' | 'qemu';
  mode?: 'real' | 'virtual';
}

export function dispatchHcall(vm: KvmVm, a: HcallArgs): Dispatched {
  const name = HCALL_NAMES[a.hcall] ?? `hcall 0x${a.hcall.toString(16)}`;
  if (!vm.enabledHcalls.has(a.hcall))
    return {
      ret: H_TOO_HARD,
      handledBy: 'qemu',
      explain: `${name} is not enabled for in-kernel handling in this VM${vm.profile.kvmInKernelTceHcalls.includes(a.hcall) ? ' (KVM_ENABLE_CAP(KVM_CAP_PPC_ENABLE_HCALL) turns it on)' : ' (this kernel does not implement it)'}: exit to userspace before any argument is looked at (§13.7)`,
      cite: kvmHv('kvmppc_pseries_do_hcall'),
    };
  let r: HRes;
  switch (a.hcall) {
    case H_PUT_TCE:
      r = hPutTce(vm, a.liobn, a.ioba, a.tce ?? 0n);
      break;
    case H_PUT_TCE_INDIRECT:
      r = hPutTceIndirect(
        vm,
        a.liobn,
        a.ioba,
        a.listGpa ?? 0n,
        a.npages ?? a.tces?.length ?? 0,
        a.tces ?? [],
      );
      break;
    case H_STUFF_TCE:
      r = hStuffTce(vm, a.liobn, a.ioba, a.tce ?? 0n, a.npages ?? 0);
      break;
    case H_GET_TCE:
      r = hGetTce(vm, a.liobn, a.ioba);
      break;
    default:
      r = {
        ret: H_TOO_HARD,
        explain: `${name}: not a TCE hypercall: exit to userspace`,
        cite: kvmHv('kvmppc_pseries_do_hcall'),
      };
  }
  if (r.ret === H_TOO_HARD) return { ...r, handledBy: 'qemu' };
  return { ...r, handledBy: 'kernel', mode: vm.profile.kvmHcallMode };
}
