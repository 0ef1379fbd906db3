/**
 * The emulated host kernel: processes and their fds, the VFIO core (container and group fds,
 * kernel-model.md §3) and the sPAPR TCE IOMMU driver v1/v2 (§4), with the era differences taken from
 * the profile (profile.ts). Everything is synchronous and deterministic.
 *
 * Results follow the kernel's convention: `ret` is what the ioctl handler returns (0, a positive value,
 * or -errno) and `explain` names the rule that decided it, with its section of kernel-model.md.
 */
import { tceIommuAttachGroup, tceIommuDetachGroup, tceIommuRelease } from './spapr-tce.ts';
import { Changes } from './changes.ts';
import { fail, hex, ok, type Res } from './result.ts';
import { Mm, Region } from './memory.ts';
import { mmIommuRelease } from './iommu-api.ts';
import { Group, Phb, type PhbModel } from './pci-ioda.ts';
import type { Profile } from './profile.ts';
import { TceTable } from './tce-table.ts';

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

export class ContainerFile {
  readonly kind = 'container';
  open = true;
  constructor(
    readonly proc: Proc,
    readonly container: Container,
  ) {}
}

export class GroupFile {
  readonly kind = 'group';
  open = true;
  constructor(
    readonly proc: Proc,
    readonly group: Group,
  ) {}
}

export class DeviceFile {
  readonly kind = 'device';
  open = true;
  constructor(
    readonly proc: Proc,
    readonly group: Group,
    readonly device: string,
  ) {}
}

// ------------------------------------------------------------------------------------------------
// container (struct vfio_container + struct tce_container, §1.3)

export class Container {
  /** open container fds across all processes */
  files = 0;
  /** VFIO core group list (vfio_container->group_list) */
  readonly groups: Group[] = [];
  driver: 'spapr' | null = null;
  v2 = false;
  enabled = false;
  /** v1: pages charged by ENABLE */
  lockedPages = 0;
  readonly tables: (TceTable | null)[] = [null, null];
  /** sPAPR driver group list, newest first: "first group" = most recently attached (Q12) */
  readonly attached: Group[] = [];
  defWindowPending = false;
  /** mainline: container->mm */
  mm: Mm | null = null;
  /** mainline: prereg_list */
  readonly prereg = new Set<Region>();
  /** the kernel object is gone: no fd and no group refers to it */
  dead = false;

  constructor(readonly id: number) {}

  get firstGroup(): Group | undefined {
    return this.attached[0];
  }
}

// ------------------------------------------------------------------------------------------------

export interface KernelOptions {
  profile: Profile;
  pageShift: number;
  ramSize: bigint;
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

  constructor(o: KernelOptions) {
    this.profile = o.profile;
    this.pageShift = o.pageShift;
    this.pageSize = 2 ** o.pageShift;
    this.ramSize = o.ramSize;
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

  openContainer(p: Proc): ContainerFile {
    const c = new Container(this.ids.next('container'));
    this.containers.push(c);
    c.files = 1;
    const f = new ContainerFile(p, c);
    p.fds.push(f);
    this.changes.touchContainer(c);
    return f;
  }

  adopt(p: Proc, from: ContainerFile): ContainerFile {
    const f = new ContainerFile(p, from.container);
    from.container.files++;
    p.fds.push(f);
    this.changes.touchContainer(from.container);
    return f;
  }

  getApiVersion(): Res {
    return ok('VFIO_API_VERSION is 0 (§4.1)');
  }

  checkExtension(ext: number): Res {
    // §4.1: answered by the sPAPR driver, before any cross-mm check; never an error
    if (ext === 2) return { ret: 1, explain: 'VFIO_SPAPR_TCE_IOMMU (v1) is supported (§4.1)' };
    if (ext === 7) return { ret: 1, explain: 'VFIO_SPAPR_TCE_v2_IOMMU is supported since 4.2 (§4.1)' };
    if (ext === 5)
      return {
        ret: this.eeh ? 1 : 0,
        explain: `VFIO_EEH: the host has EEH ${this.eeh ? 'enabled' : 'disabled'} (§4.1)`,
      };
    return ok(`extension ${ext} is not offered by the sPAPR TCE driver (§4.1)`);
  }

  setIommu(caller: Proc, c: Container, type: number): Res {
    // §3 item 2
    if (c.groups.length === 0)
      return fail('EINVAL', 'VFIO_SET_IOMMU: the container has no group yet (§3 item 2)');
    if (c.driver)
      return fail('EINVAL', 'VFIO_SET_IOMMU: the container already has an IOMMU driver (§3 item 2)');
    // only drivers answering CHECK_EXTENSION(type) > 0 are tried; the sPAPR driver's open then accepts
    // only types 2 and 7 (so VFIO_EEH = 5 on an EEH host reaches open and fails there with EINVAL)
    if (this.checkExtension(type).ret <= 0)
      return fail('ENODEV', `VFIO_SET_IOMMU: no IOMMU driver claims type ${type} (§3 item 2)`);
    if (type !== 2 && type !== 7)
      return fail(
        'EINVAL',
        `VFIO_SET_IOMMU: the sPAPR driver answers CHECK_EXTENSION(${type}) but its open accepts only types 2 and 7 (§3 item 2)`,
      );
    c.driver = 'spapr';
    c.v2 = type === 7;
    this.changes.touchContainer(c);
    // attach every group already in the container, in list order (newest first)
    const done: Group[] = [];
    for (const g of [...c.groups]) {
      const r = tceIommuAttachGroup(this, caller, c, g);
      if (r.ret !== 0) {
        for (const d of done) tceIommuDetachGroup(this, caller, c, d);
        tceIommuRelease(this, caller, c);
        return { ret: r.ret, explain: `VFIO_SET_IOMMU(${type}): attaching ${g.name} failed: ${r.explain}` };
      }
      done.push(g);
    }
    return ok(
      `VFIO_SET_IOMMU(${type}): sPAPR TCE ${c.v2 ? 'v2' : 'v1'} driver attached to ${done.map((g) => g.name).join(', ')} (§3 item 2, §4.2)`,
    );
  }

  // ---- VFIO core: group fd (§3 items 3, 4) ------------------------------------------------------

  openGroup(p: Proc, g: Group): GroupFile | Res<never> {
    if (g.fdOpen) return fail('EBUSY', `open(/dev/vfio/${g.id}): the group is already open (§3)`);
    g.fdOpen = true;
    const f = new GroupFile(p, g);
    p.fds.push(f);
    this.changes.touchGroup(g);
    return f;
  }

  groupStatus(g: Group): Res<{ flags: number }> {
    const flags = 1 | (g.container !== null ? 2 : 0); // VIABLE | CONTAINER_SET
    return ok(`group ${g.name} is viable${g.container !== null ? ' and in a container' : ''}`, { flags });
  }

  setContainer(caller: Proc, g: Group, cf: ContainerFile | null): Res {
    if (!cf || !cf.open || cf.proc !== caller)
      return fail(
        'EBADF',
        'VFIO_GROUP_SET_CONTAINER: the fd is not an open file of this process (§3 item 3)',
      );
    const c = cf.container;
    if (g.container !== null)
      return fail(
        'EINVAL',
        `VFIO_GROUP_SET_CONTAINER: ${g.name} is already in container ${g.container} (§3 item 3)`,
      );
    if (this.profile.ownershipTakenAt === 'set-container') {
      // mainline: the IOMMU core claims DMA ownership now (§3 item 3, §7.1)
      if (g.phb.model === 'IODA1' && g.kernelDma) {
        return fail(
          'EBUSY',
          `VFIO_GROUP_SET_CONTAINER: ${g.name}'s kernel table still has DMA mappings, the platform refuses to give it up (§7.1) [derived]`,
        );
      }
      g.owner = 'vfio';
    }
    g.container = c.id;
    c.groups.unshift(g);
    this.changes.touchGroup(g);
    this.changes.touchContainer(c);
    if (c.driver) {
      const r = tceIommuAttachGroup(this, caller, c, g);
      if (r.ret !== 0) {
        c.groups.splice(c.groups.indexOf(g), 1);
        g.container = null;
        if (this.profile.ownershipTakenAt === 'set-container') g.owner = 'kernel';
        return {
          ret: r.ret,
          explain: `VFIO_GROUP_SET_CONTAINER: the driver refused ${g.name}: ${r.explain}`,
        };
      }
      return ok(
        `VFIO_GROUP_SET_CONTAINER: ${g.name} joined container ${c.id} and was attached to its sPAPR driver (§3 item 3)`,
      );
    }
    return ok(
      `VFIO_GROUP_SET_CONTAINER: ${g.name} is in container ${c.id}${this.profile.ownershipTakenAt === 'set-container' ? '; the PE was taken from the host kernel (§7.1)' : ''} (§3 item 3)`,
    );
  }

  unsetContainer(caller: Proc, g: Group): Res {
    if (g.container === null)
      return fail('EINVAL', `VFIO_GROUP_UNSET_CONTAINER: ${g.name} is not in a container (§3 item 4)`);
    if (g.devicesOpen > 0)
      return fail(
        'EBUSY',
        `VFIO_GROUP_UNSET_CONTAINER: ${g.devicesOpen} device fd(s) of ${g.name} are still open (§3 item 4)`,
      );
    const c = this.containerById(g.container);
    this.detachFromContainer(caller, c, g);
    return ok(
      `VFIO_GROUP_UNSET_CONTAINER: ${g.name} left container ${c.id}${c.driver ? '' : '; it was the last group, the driver was released'} (§3 item 4, §4.13)`,
    );
  }

  openDevice(p: Proc, g: Group, name: string | undefined): DeviceFile | Res<never> {
    if (g.container === null || !this.containerById(g.container).driver) {
      return fail('EINVAL', `VFIO_GROUP_GET_DEVICE_FD: ${g.name} has no container with an IOMMU driver (§3)`);
    }
    const dev = name ?? g.devices[0]!;
    if (!g.devices.includes(dev))
      return fail('ENODEV', `VFIO_GROUP_GET_DEVICE_FD: no device ${dev} in ${g.name}`);
    g.devicesOpen++;
    const f = new DeviceFile(p, g, dev);
    p.fds.push(f);
    this.changes.touchGroup(g);
    return f;
  }

  /** close(2) of any fd; `caller` is the closing process (matters for 4.2 accounting) */
  close(caller: Proc, f: Fd): void {
    if (!f.open) return;
    f.open = false;
    if (f.kind === 'container') {
      const c = f.container;
      c.files--;
      this.changes.touchContainer(c);
      // §3 item 5: closing the fd only drops a reference while groups are attached
      if (c.files === 0 && c.groups.length === 0) this.destroyContainer(c);
    } else if (f.kind === 'group') {
      f.group.fdOpen = false;
      this.changes.touchGroup(f.group);
      this.maybeDissolve(caller, f.group);
    } else {
      f.group.devicesOpen--;
      this.changes.touchGroup(f.group);
      this.maybeDissolve(caller, f.group);
    }
  }

  /** the group leaves its container once neither its fd nor a device fd is open (§3 item 4) */
  maybeDissolve(caller: Proc, g: Group): void {
    if (g.fdOpen || g.devicesOpen > 0 || g.container === null) return;
    const c = this.containerById(g.container);
    this.detachFromContainer(caller, c, g);
  }

  detachFromContainer(caller: Proc, c: Container, g: Group): void {
    if (c.driver) tceIommuDetachGroup(this, caller, c, g);
    c.groups.splice(c.groups.indexOf(g), 1);
    g.container = null;
    if (this.profile.ownershipTakenAt === 'set-container') g.owner = 'kernel'; // core releases DMA ownership
    this.changes.touchGroup(g);
    this.changes.touchContainer(c);
    if (c.groups.length === 0) {
      if (c.driver) tceIommuRelease(this, caller, c);
      if (c.files === 0) this.destroyContainer(c);
    }
  }

  destroyContainer(c: Container): void {
    c.dead = true;
    this.changes.touchContainer(c);
  }

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
    for (const f of [...p.fds]) this.close(p, f);
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
