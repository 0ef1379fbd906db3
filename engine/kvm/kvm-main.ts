/**
 * The emulated twin of virt/kvm/kvm_main.c for a KVM-HV pseries guest (kernel-model.md §13.1, §13.3):
 * the VM bound to its creator's mm, its reference count (VM fd, each TCE table fd, the device fd), and
 * the memslots that translate guest physical addresses into the creator's user addresses.
 */
import { kvmMain } from '../cite.ts';
import type { Changes } from '../changes.ts';
import type { Proc } from '../kernel.ts';
import type { Container } from '../vfio-container.ts';
import type { Mm } from '../memory.ts';
import type { Group } from '../pci-ioda.ts';
import type { Profile } from '../profile.ts';
import type { KvmEra } from './era.ts';
import { H_GET_TCE, H_PUT_TCE } from './era.ts';
import type { KvmTceTable } from './book3s-64-vio.ts';
import type { KvmVfioDevice } from './vfio.ts';
import type { Cite } from '../cite.ts';

export type KvmProfile = Profile & KvmEra;

/** Result of a KVM ioctl, in the kernel's convention (ret 0 / positive / -errno) plus why. */
export interface KRes<Out = undefined> {
  ret: number;
  explain: string;
  /** the kernel function that decides it (cite.ts) */
  cite: Cite;
  out?: Out;
}

/** What the KVM code needs of the rest of the emulated host. */
export interface KvmHostSide {
  readonly profile: KvmProfile;
  readonly pageShift: number;
  readonly changes: Changes;
  /** the container a group is attached to (vfio_group->container), or null */
  containerOf(g: Group): Container | null;
}

export interface Memslot {
  slot: number;
  flags: number;
  gpa: bigint;
  size: bigint;
  ua: bigint;
}

/** KVM_USER_MEM_SLOTS on book3s (KVM_USER_MEM_SLOTS 512) */
export const KVM_USER_MEM_SLOTS = 512;

const byHost = new WeakMap<object, Kvm>();

/** the KVM state of an emulated host (its Kernel), if KVM was used on it */
export function kvmOfHost(host: object): Kvm | undefined {
  return byHost.get(host);
}

/** records the KVM state of a host, created on first use (kvm/facade.ts) */
export function setKvmOfHost(host: object, kvm: Kvm): void {
  byHost.set(host, kvm);
}

/** the per-host KVM state: every VM created on it */
export class Kvm {
  readonly vms: KvmVm[] = [];
  private nextVm = 0;
  private nextTable = 0;
  constructor(readonly host: KvmHostSide) {}

  get profile(): KvmProfile {
    return this.host.profile;
  }

  /** KVM_CREATE_VM (`KMAIN:kvm_create_vm`): kvm->mm = current->mm; no locked_vm change (§13.3) */
  createVm(p: Proc): KvmVm {
    const vm = new KvmVm(++this.nextVm, this, p);
    this.vms.push(vm);
    return vm;
  }

  tableId(): number {
    return ++this.nextTable;
  }
}

export class KvmVm {
  /** kvm->mm: the creating process's mm (§13.3) */
  readonly mm: Mm;
  fdOpen = true;
  /** references: the VM fd, each TCE table fd, the device fd (kvm_get_kvm) */
  refs = 1;
  destroyed = false;
  readonly memslots = new Map<number, Memslot>();
  /** kvm->arch.spapr_tce_tables */
  readonly tables: KvmTceTable[] = [];
  /** kvm->arch.enabled_hcalls: `default_hcall_list` has H_GET_TCE and H_PUT_TCE among the TCE calls */
  readonly enabledHcalls = new Set<number>([H_GET_TCE, H_PUT_TCE]);
  /** the kvm-vfio device (one per VM, §13.6.1) */
  device: KvmVfioDevice | null = null;

  constructor(
    readonly id: number,
    readonly kvm: Kvm,
    readonly proc: Proc,
  ) {
    this.mm = proc.mm;
  }

  get profile(): KvmProfile {
    return this.kvm.profile;
  }

  /** kvm_get_kvm */
  get(): void {
    this.refs++;
  }

  /** kvm_put_kvm: the last reference destroys the VM (§13.3); every table was released before */
  put(): void {
    this.refs--;
    if (this.refs > 0 || this.destroyed) return;
    this.destroyed = true;
    // 4.2/5.x: the kvm-vfio device is destroyed with the VM (`.destroy`), ML released it at fd close
    this.onDestroy?.();
  }

  /** set by the kvm-vfio device of older kernels (destroy at VM teardown, §13.5) */
  onDestroy: (() => void) | null = null;

  /**
   * gfn → hva through the memslots (`kvmppc_tce_to_ua`, §13.8): the slot holding the host page of `gpa`;
   * the offset inside the host page is kept. null: no memslot.
   */
  gpaToUa(gpa: bigint): bigint | null {
    const ps = BigInt(this.kvm.host.pageShift);
    const page = (gpa >> ps) << ps;
    for (const s of this.memslots.values()) {
      if (page >= s.gpa && page < s.gpa + s.size) return s.ua + (gpa - s.gpa);
    }
    return null;
  }

  /** KVM_SET_USER_MEMORY_REGION (`KMAIN:__kvm_set_memory_region`) [derived: not part of §13's cases] */
  setUserMemoryRegion(m: Memslot): KRes {
    const ps = 1n << BigInt(this.kvm.host.pageShift);
    const mask = ps - 1n;
    if ((m.flags & ~3) !== 0)
      return {
        ret: -22,
        explain: `KVM_SET_USER_MEMORY_REGION: flags 0x${m.flags.toString(16)} unknown (EINVAL)`,
        cite: kvmMain('__kvm_set_memory_region'),
      };
    if (m.size & mask || m.gpa & mask || m.ua & mask)
      return {
        ret: -22,
        explain: `KVM_SET_USER_MEMORY_REGION: memory_size, guest_phys_addr and userspace_addr must be multiples of PAGE_SIZE ${ps} (EINVAL)`,
        cite: kvmMain('__kvm_set_memory_region'),
      };
    if (m.slot >= KVM_USER_MEM_SLOTS)
      return {
        ret: -22,
        explain: `KVM_SET_USER_MEMORY_REGION: slot ${m.slot} ≥ KVM_USER_MEM_SLOTS (EINVAL)`,
        cite: kvmMain('__kvm_set_memory_region'),
      };
    const old = this.memslots.get(m.slot);
    if (m.size === 0n) {
      if (!old)
        return {
          ret: -22,
          explain: `KVM_SET_USER_MEMORY_REGION: deleting slot ${m.slot}, which does not exist (EINVAL)`,
          cite: kvmMain('__kvm_set_memory_region'),
        };
      this.memslots.delete(m.slot);
      return { ret: 0, explain: `memslot ${m.slot} deleted`, cite: kvmMain('__kvm_set_memory_region') };
    }
    if (old && old.size !== m.size)
      return {
        ret: -22,
        explain: `KVM_SET_USER_MEMORY_REGION: slot ${m.slot} exists with another size; a slot cannot be resized (EINVAL)`,
        cite: kvmMain('__kvm_set_memory_region'),
      };
    for (const s of this.memslots.values()) {
      if (s.slot === m.slot) continue;
      if (m.gpa < s.gpa + s.size && s.gpa < m.gpa + m.size)
        return {
          ret: -17,
          explain: `KVM_SET_USER_MEMORY_REGION: guest range 0x${m.gpa.toString(16)}+0x${m.size.toString(16)} overlaps memslot ${s.slot} (EEXIST)`,
          cite: kvmMain('__kvm_set_memory_region'),
        };
    }
    this.memslots.set(m.slot, { ...m });
    return {
      ret: 0,
      explain: `memslot ${m.slot}: guest 0x${m.gpa.toString(16)}..0x${(m.gpa + m.size - 1n).toString(16)} → user 0x${m.ua.toString(16)}; no locked_vm change (§13.10.1)`,
      cite: kvmMain('__kvm_set_memory_region'),
    };
  }
}
