/**
 * The emulated twin of the sPAPR parts of arch/powerpc/kvm/powerpc.c (kernel-model.md §13.3, §13.4,
 * `KPPC`): KVM_CHECK_EXTENSION, KVM_ENABLE_CAP(KVM_CAP_PPC_ENABLE_HCALL) and the two TCE-table entry
 * points of kvm_arch_vm_ioctl.
 */
import { kvmPowerpc } from '../cite.ts';
import { createSpaprTce, type KvmTceTable } from './book3s-64-vio.ts';
import { H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE } from './era.ts';
import type { KRes, KvmVm } from './kvm-main.ts';

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/**
 * hcalls KVM-HV implements besides the TCE ones (`KHV:default_hcall_list`: H_REMOVE, H_ENTER, H_READ,
 * H_PROTECT, H_BULK_REMOVE, H_SET_DABR, H_SET_XDABR, H_CEDE, H_PROD, H_CONFER, H_REGISTER_VPA and the XICS
 * calls H_EOI, H_CPPR, H_IPI, H_IPOLL, H_XIRR, H_XIRR_X)
 */
const OTHER_HV_HCALLS = [
  0x04, 0x08, 0x0c, 0x18, 0x24, 0x28, 0x134, 0xe0, 0xe4, 0xe8, 0xdc, 0x64, 0x68, 0x6c, 0x70, 0x74, 0x2fc,
];

export const HCALL_NAMES: Readonly<Record<number, string>> = {
  [H_GET_TCE]: 'H_GET_TCE',
  [H_PUT_TCE]: 'H_PUT_TCE',
  [H_STUFF_TCE]: 'H_STUFF_TCE',
  [H_PUT_TCE_INDIRECT]: 'H_PUT_TCE_INDIRECT',
};

const CAP_NAMES: Readonly<Record<number, string>> = {
  63: 'KVM_CAP_SPAPR_TCE',
  94: 'KVM_CAP_SPAPR_MULTITCE',
  104: 'KVM_CAP_PPC_ENABLE_HCALL',
  125: 'KVM_CAP_SPAPR_TCE_64',
  142: 'KVM_CAP_SPAPR_TCE_VFIO',
};

/** KVM_CHECK_EXTENSION on the VM fd (`KPPC:kvm_vm_ioctl_check_extension`, §13.3 table) */
export function checkExtension(vm: KvmVm, cap: number): KRes {
  const v = vm.profile.kvmCaps[cap];
  const name = CAP_NAMES[cap];
  if (v === undefined)
    return {
      ret: 0,
      explain: `KVM_CHECK_EXTENSION(${cap}): not an sPAPR TCE capability this emulator models: 0`,
      cite: kvmPowerpc('kvm_vm_ioctl_check_extension'),
    };
  return {
    ret: v,
    explain: `KVM_CHECK_EXTENSION(${name} = ${cap}) → ${v} in this kernel (§13.3)`,
    cite: kvmPowerpc('kvm_vm_ioctl_check_extension'),
  };
}

/** KVM_ENABLE_CAP(KVM_CAP_PPC_ENABLE_HCALL, [hcall, on]) (`KPPC:kvm_vm_ioctl_enable_cap`, §13.3) */
export function enableHcall(vm: KvmVm, hcall: number, on: number, flags: number): KRes {
  const op = `KVM_ENABLE_CAP(KVM_CAP_PPC_ENABLE_HCALL, [${hex(hcall)}, ${on}])`;
  if (flags !== 0)
    return {
      ret: -22,
      explain: `${op}: cap.flags ${flags} ≠ 0 (EINVAL, §13.3)`,
      cite: kvmPowerpc('kvm_vm_ioctl_enable_cap'),
    };
  if (hcall & 3 || on > 1)
    return {
      ret: -22,
      explain: `${op}: ${hcall & 3 ? 'hcall number not a multiple of 4' : 'args[1] > 1'} (EINVAL, §13.3)`,
      cite: kvmPowerpc('kvm_vm_ioctl_enable_cap'),
    };
  const implemented = vm.profile.kvmInKernelTceHcalls.includes(hcall) || OTHER_HV_HCALLS.includes(hcall);
  if (!implemented)
    return {
      ret: -22,
      explain: `${op}: ${HCALL_NAMES[hcall] ?? `hcall ${hex(hcall)}`} is not implemented by KVM-HV in this kernel (EINVAL, §13.3)`,
      cite: kvmPowerpc('kvm_vm_ioctl_enable_cap'),
    };
  if (on) vm.enabledHcalls.add(hcall);
  else vm.enabledHcalls.delete(hcall);
  return {
    ret: 0,
    explain: `${op}: ${HCALL_NAMES[hcall] ?? hex(hcall)} is now ${on ? 'handled in the kernel' : 'passed to userspace (KVM_EXIT_PAPR_HCALL)'} (§13.3, §13.7)`,
    cite: kvmPowerpc('kvm_vm_ioctl_enable_cap'),
  };
}

/** KVM_CREATE_SPAPR_TCE: the legacy struct converted as §13.4.1 says (4 KiB TCEs at bus 0) */
export function createSpaprTceLegacy(
  vm: KvmVm,
  liobn: bigint,
  windowSize: bigint,
): KRes<{ table: KvmTceTable }> {
  return createSpaprTce(vm, {
    liobn,
    pageShift: 12,
    offset: 0n,
    size: windowSize >> 12n,
    windowSize,
    legacy: true,
  });
}

/** KVM_CREATE_SPAPR_TCE_64 (§13.4.1 entry point; 4.2 has no such case → ENOTTY, §13.4.2) */
export function createSpaprTce64(
  vm: KvmVm,
  a: { liobn: bigint; pageShift: number; flags: number; offset: bigint; size: bigint },
): KRes<{ table: KvmTceTable }> {
  if (!vm.profile.kvmTce64)
    return {
      ret: -25,
      explain:
        'KVM_CREATE_SPAPR_TCE_64: this kernel has no such case; the HV backend answers ENOTTY for unknown VM ioctls (§13.4.2) [derived]',
      cite: kvmPowerpc('kvm_arch_vm_ioctl'),
    };
  if (a.flags !== 0)
    return {
      ret: -22,
      explain: `KVM_CREATE_SPAPR_TCE_64: flags ${hex(a.flags)} ≠ 0 (EINVAL, §13.4.1)`,
      cite: kvmPowerpc('kvm_arch_vm_ioctl'),
    };
  return createSpaprTce(vm, { ...a, windowSize: a.size << BigInt(a.pageShift), legacy: false });
}
