/**
 * The emulated host: its tasks (struct task_struct with its mm and fd table), anonymous mmap/munmap
 * (mm/mmap.c), page pins (mm/gup.c) and process exit (kernel/exit.c), plus the host-wide state every
 * other kernel file works on (PHBs, groups, containers). The kernel's files each have their twin here:
 *
 *   drivers/vfio/container.c                   vfio-container.ts
 *   drivers/vfio/group.c                       vfio-group.ts
 *   drivers/vfio/vfio_iommu_spapr_tce.c        spapr-tce.ts (attach, enable, GET_INFO), spapr-tce-build.ts
 *                                              (build, clear), spapr-tce-map.ts (MAP/UNMAP),
 *                                              spapr-tce-ddw.ts (windows), spapr-tce-prereg.ts (REGISTER)
 *   drivers/vfio/vfio_spapr_eeh.c              spapr-eeh.ts
 *   arch/powerpc/mm/book3s64/iommu_api.c       iommu-api.ts
 *   arch/powerpc/kernel/iommu.c                iommu.ts (struct iommu_table: tce-table.ts)
 *   arch/powerpc/platforms/powernv/pci-ioda.c  pci-ioda.ts
 *   .../powernv/pci-ioda-tce.c                 pci-ioda-tce.ts
 *   mm/util.c (account_locked_vm)              locked-vm.ts
 *   mm/mlock.c                                 mm/mlock.ts
 *   virt/kvm/kvm_main.c                        kvm/kvm-main.ts (VM, memslots)
 *   arch/powerpc/kvm/powerpc.c                 kvm/powerpc.ts (CHECK_EXTENSION, ENABLE_HCALL, TCE ioctls)
 *   arch/powerpc/kvm/book3s_64_vio.c           kvm/book3s-64-vio.ts (KVM TCE tables, TCE hypercalls)
 *   arch/powerpc/kvm/book3s_hv.c               kvm/book3s-hv.ts (hypercall dispatch)
 *   virt/kvm/vfio.c                            kvm/vfio.ts (kvm-vfio device, SET_SPAPR_TCE)
 *   (userspace) QEMU hw/ppc/spapr_iommu.c      qemu/spapr-iommu.ts — not kernel: what QEMU does on an exit
 *
 * A function that models a kernel function is its camelCase twin (tce_iommu_register_pages →
 * tceIommuRegisterPages) and names it in its doc line. Era differences come from the profile (profile.ts).
 * Everything is synchronous and deterministic. Results follow the kernel's convention (result.ts).
 */
import type { ChunkMeter, TceTable } from './tce-table.ts';
import { closeFd, type DeviceFile, type GroupFile } from './vfio-group.ts';
import type { Container, ContainerFile } from './vfio-container.ts';
import { Changes } from './changes.ts';
import { hex } from './result.ts';
import { Mm } from './memory.ts';
import { mmIommuRelease } from './iommu-api.ts';
import { Group, Phb, type PhbModel } from './pci-ioda.ts';
import type { Profile } from './profile.ts';

export type { Res } from './result.ts';

// ------------------------------------------------------------------------------------------------
// processes and fds

export class Proc {
  exited = false;
  readonly fds: Fd[] = [];
  constructor(
    readonly pid: number,
    readonly name: string,
    readonly mm: Mm,
    public memlock: bigint,
    public capIpcLock: boolean,
  ) {}

  /** current->mm: null once the address space is gone (process exit, §5.6) */
  get currentMm(): Mm | null {
    return this.mm.alive ? this.mm : null;
  }
}

export type Fd = ContainerFile | GroupFile | DeviceFile;
export { Container, ContainerFile } from './vfio-container.ts';
export { DeviceFile, GroupFile } from './vfio-group.ts';

// ------------------------------------------------------------------------------------------------

export interface KernelOptions {
  profile: Profile;
  pageShift: number;
  ramSize: bigint;
  /** the largest page-allocator block (PAGE_SIZE << max order), §14.3; default 16 MiB */
  maxAllocBytes?: number;
  eeh: boolean;
  hostId: number;
  changes: Changes;
  ids: { next(kind: 'pid' | 'group' | 'container' | 'table' | 'region' | 'phb'): number };
  /** charges TCE table memory to the run's memory budget (session.ts) */
  meter?: ChunkMeter;
}

/** Physical memory starts here (first 256 MiB left to firmware and the kernel image). */
const PHYS_BASE = 0x10000000;
/** ppc64 user address space limit (TASK_SIZE_USER64 with 4 PB, mainline); mmap refuses beyond */
export const USER_VA_LIMIT = 2 ** 52;
const DEFAULT_MMAP_TOP = 0x7000_0000_0000;

export class Kernel {
  readonly profile: Profile;
  readonly pageShift: number;
  readonly pageSize: number;
  readonly ramSize: bigint;
  /** the largest page-allocator block in bytes: a TCE table level above it fails with ENOMEM (§14.3) */
  readonly maxAllocBytes: number;
  readonly eeh: boolean;
  readonly hostId: number;
  readonly changes: Changes;
  readonly phbs: Phb[] = [];
  readonly groups: Group[] = [];
  readonly procs: Proc[] = [];
  readonly containers: Container[] = [];
  /** page references taken by v1 MAP (one per TCE), keyed by physical frame (phys >> PAGE_SHIFT) */
  readonly pinCounts = new Map<number, number>();
  private nextPhys = PHYS_BASE;
  readonly ids: KernelOptions['ids'];
  /** charges TCE table chunks to the run's memory budget; every table the kernel creates gets it */
  readonly meter: ChunkMeter | undefined;

  constructor(o: KernelOptions) {
    this.profile = o.profile;
    this.pageShift = o.pageShift;
    this.pageSize = 2 ** o.pageShift;
    this.ramSize = o.ramSize;
    this.maxAllocBytes = o.maxAllocBytes ?? 16 * 1024 * 1024;
    this.eeh = o.eeh;
    this.hostId = o.hostId;
    this.changes = o.changes;
    this.ids = o.ids;
    this.meter = o.meter;
  }

  /** chunks held by the tables still in use (containers' windows, borrowed 4.2 tables) */
  liveTableChunks(): number {
    const seen = new Set<TceTable>();
    for (const c of this.containers) for (const t of c.tables) if (t) seen.add(t);
    for (const g of this.groups) if (g.borrowed) seen.add(g.borrowed);
    let n = 0;
    for (const t of seen) n += t.chunkCount;
    return n;
  }

  // ---- topology ------------------------------------------------------------------------------

  addPhb(model: PhbModel, tce32Start: bigint, tce32Size: bigint, pgsizes: bigint | undefined): Phb {
    // §1.1: IODA1 has 4 KiB pages under mainline's borrowing ops; without ops (4.2) the table group has none
    const dflt = model === 'IODA2' ? this.profile.defaultPgsizes : this.profile.ioda1HasOps ? 0x1000n : 0n;
    const phb = new Phb(this.ids.next('phb'), model, tce32Start, tce32Size, pgsizes ?? dflt);
    this.phbs.push(phb);
    return phb;
  }

  addGroup(phb: Phb, devices: string[], kernelDma: boolean): Group {
    const g = new Group(this.ids.next('group'), phb, phb.groups.length, devices, kernelDma);
    phb.groups.push(g);
    this.groups.push(g);
    this.changes.touchGroup(g);
    return g;
  }

  spawn(name: string, memlock: bigint, capIpcLock: boolean): Proc {
    const pid = this.ids.next('pid');
    const p = new Proc(pid, name, new Mm(pid, this.pageShift), memlock, capIpcLock);
    this.procs.push(p);
    this.changes.touchProcess(pid);
    return p;
  }

  // ---- memory --------------------------------------------------------------------------------

  /** anonymous mmap; returns the address or an error text for the scenario author */
  mmap(p: Proc, size: number, at: number | undefined, writable: boolean, huge: boolean): number | string {
    const align = huge ? 1 << 24 : this.pageSize;
    if (size <= 0) return 'mmap: size must be greater than 0';
    const len = Math.ceil(size / align) * align;
    let start: number;
    if (at !== undefined) {
      if (at % align !== 0) return `mmap: address ${hex(at)} is not aligned to ${hex(align)}`;
      if (at + len > USER_VA_LIMIT)
        return `mmap: [${hex(at)}, ${hex(at + len)}) is beyond the user address space (${hex(USER_VA_LIMIT)})`;
      if (p.mm.overlapsMapping(at, at + len))
        return `mmap: [${hex(at)}, ${hex(at + len)}) overlaps an existing mapping (munmap it first)`;
      start = at;
    } else {
      // top-down below DEFAULT_MMAP_TOP, like the kernel's mmap_base allocator
      start = Math.floor((DEFAULT_MMAP_TOP - len) / align) * align;
      for (const e of [...p.mm.mappings].sort((a, b) => b.start - a.start)) {
        if (e.start < start + len && start < e.end) start = Math.floor((e.start - len) / align) * align;
      }
      if (start < this.pageSize) return 'mmap: no room left in the address space';
    }
    this.nextPhys = Math.ceil(this.nextPhys / align) * align;
    const phys = this.nextPhys;
    this.nextPhys += len;
    p.mm.addMapping({
      start,
      end: start + len,
      phys,
      backingShift: huge ? 24 : this.pageShift,
      writable,
      hugetlb: huge,
    });
    return start;
  }

  munmap(p: Proc, vaddr: number, size: number): string | null {
    if (vaddr % this.pageSize !== 0) return `munmap: address ${hex(vaddr)} is not page aligned`;
    if (size <= 0) return 'munmap: size must be greater than 0';
    p.mm.removeRange(vaddr, vaddr + Math.ceil(size / this.pageSize) * this.pageSize);
    return null;
  }

  /** page references on the system page backing ua: v1 pins plus registration pins (§4.6.3, §4.8) */
  pins(p: Proc, ua: number): number {
    const e = p.mm.mappingAt(ua);
    if (!e) return 0;
    const phys = e.phys + (ua - e.start);
    const frame = Math.floor(phys / this.pageSize);
    let n = this.pinCounts.get(frame) ?? 0;
    for (const q of this.procs) {
      for (const r of q.mm.regions) {
        if (r.released) continue;
        for (const x of r.extents) if (phys >= x.phys && phys < x.phys + (x.end - x.start)) n++;
      }
    }
    return n;
  }

  pin(frame: number, n = 1): void {
    this.pinCounts.set(frame, (this.pinCounts.get(frame) ?? 0) + n);
  }

  unpin(frame: number): void {
    const c = this.pinCounts.get(frame) ?? 0;
    if (c <= 1) this.pinCounts.delete(frame);
    else this.pinCounts.set(frame, c - 1);
  }

  // ---- locked_vm -----------------------------------------------------------------------------

  // ---- VFIO core: container fd (§3) ------------------------------------------------------------

  // ---- VFIO core: group fd (§3 items 3, 4) ------------------------------------------------------

  containerById(id: number): Container {
    const c = this.containers.find((x) => x.id === id);
    if (!c) throw new Error(`no container ${id}`);
    return c;
  }

  /** process exit (§5.6): 4.2 tears the mm down first, then closes the fds; mainline closes with the container's mm */
  exit(p: Proc): void {
    if (this.profile.accountTo === 'current') {
      // 4.2: exit_mm before exit_files; registered regions are freed by the mm teardown hook without accounting
      for (const r of [...p.mm.regions]) mmIommuRelease(this, r); // it removes r from the list
      p.mm.regions = [];
      p.mm.alive = false;
    }
    for (const f of [...p.fds]) closeFd(this, p, f);
    if (p.mm.alive) {
      p.mm.alive = false;
      // mainline: regions still in the mm now are the orphans of §4.9; mm teardown only warns about them
    }
    p.exited = true;
    this.changes.touchProcess(p.pid);
  }

  // ---- sPAPR driver: attach / detach / release (§4.2, §4.13) ------------------------------------

  // ---- sPAPR driver ioctls ----------------------------------------------------------------------

  // ---- v2 registration (§4.8, §4.9) --------------------------------------------------------------

  // ---- DDW (§4.10, §4.11) ------------------------------------------------------------------------

  // ---- EEH (§4.12) -----------------------------------------------------------------------------
}
