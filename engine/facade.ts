/**
 * Scenario API layer: models no kernel file.
 * The scenario API objects (scenario-api.md §2) over the emulated kernel. This layer converts and checks
 * the scenario's values (what the kernel cannot see: unsafe numbers, missing fields, using an exited
 * process), issues the call, and records one event per call with its deltas (events.ts).
 */
import { whyText } from './cite.ts';
import { vfioGroupFopsOpen } from './vfio-group.ts';
import { vfioFileDup, vfioFopsOpen } from './vfio-container.ts';
import {
  ScenarioError,
  type BigIntLike,
  type ContainerApi,
  type GroupFdApi,
  type HostApi,
  type IoctlResult,
  type IommuGroupApi,
  type KernelName,
  type MmapOptions,
  type PhbApi,
  type PhbOptions,
  type ProcessApi,
  type RegionInfo,
  type SpawnOptions,
} from './api.ts';
import { errnoName } from './errno.ts';
import type { ActionEvent, LockedVmBreakdown } from './events.ts';
import { Kernel, type Proc } from './kernel.ts';
import { GroupFile } from './vfio-group.ts';
import type { Group, Phb } from './pci-ioda.ts';
import type { GuestSpec } from './memlock.ts';
import type { Recorder } from './recorder.ts';
import type { KvmVmApi } from './kvm/api.ts';
import { unmapLocked } from './mm/mlock.ts';
import { guestOf, need, req, toBig } from './facade-args.ts';
import { ContainerFacade } from './facade-container.ts';
import { DeviceFdFacade, GroupFdFacade } from './facade-group.ts';

export { guestOf, toBig, ContainerFacade, DeviceFdFacade, GroupFdFacade };

// ------------------------------------------------------------------------------------------------

/**
 * The KVM members of Process (scenario-api.md §2.1.2), implemented in kvm/facade.ts; the session passes
 * them in, so this file does not import the KVM layer that builds on it.
 */
export interface KvmHooks {
  openKvm(pf: ProcessFacade): KvmVmApi;
  mlock(pf: ProcessFacade, args: { addr: BigIntLike; size: BigIntLike }, lock: boolean): IoctlResult;
  /** process exit closes the process's VMs, KVM tables and kvm-vfio devices (§13.5) */
  exit(k: Kernel, p: Proc): void;
}

export class HostFacade implements HostApi {
  readonly pageSize: number;
  constructor(
    readonly k: Kernel,
    readonly rec: Recorder,
    readonly kvm: KvmHooks,
    /** the host's guest: the default of every process spawned without one */
    readonly guest: GuestSpec | null = null,
  ) {
    this.pageSize = k.pageSize;
  }

  get kernel(): KernelName {
    return this.k.profile.name;
  }

  addPhb(opts: PhbOptions = {}): PhbApi {
    const o = need(opts, 'addPhb');
    const model = o.model ?? 'IODA2';
    if (model !== 'IODA2' && model !== 'IODA1')
      throw new ScenarioError(`addPhb: model must be 'IODA2' or 'IODA1', got ${String(model)}`);
    const tce32Start = o.tce32Start === undefined ? 0n : toBig(o.tce32Start, 'addPhb: tce32Start');
    const tce32Size = o.tce32Size === undefined ? 0x80000000n : toBig(o.tce32Size, 'addPhb: tce32Size');
    if (tce32Start + tce32Size > 1n << 32n)
      throw new ScenarioError('addPhb: the 32-bit window must end below 4 GiB');
    if (tce32Start % 4096n !== 0n || tce32Size % 4096n !== 0n)
      throw new ScenarioError('addPhb: tce32Start and tce32Size must be 4 KiB aligned');
    const pgsizes = o.pgsizes === undefined ? undefined : toBig(o.pgsizes, 'addPhb: pgsizes');
    const phb = this.k.addPhb(model, tce32Start, tce32Size, pgsizes);
    return new PhbFacade(this, phb);
  }

  spawn(opts: SpawnOptions = {}): ProcessApi {
    const o = need(opts, 'spawn');
    const memlock = o.memlock === undefined ? 64n * 1024n : toBig(o.memlock, 'spawn: memlock');
    const cap = o.capIpcLock === undefined ? false : Boolean(o.capIpcLock);
    const name = o.name === undefined ? `proc${this.k.procs.length + 1}` : String(o.name);
    const guest = o.guest === undefined ? this.guest : guestOf(o.guest, 'spawn: guest');
    const p = this.k.spawn(name, memlock, cap);
    if (this.rec.memlockOverride) p.mm.override = this.rec.memlockOverride(p.pid);
    if (guest) this.rec.guests.set(p.pid, guest);
    const f = new ProcessFacade(this, p);
    this.rec.action(
      this.k,
      p,
      'spawn',
      { name, memlock, capIpcLock: cap },
      `process ${p.pid} (${name}) started with RLIMIT_MEMLOCK ${memlock} bytes${cap ? ' and CAP_IPC_LOCK' : ''}`,
    );
    return f;
  }
}

export class PhbFacade implements PhbApi {
  constructor(
    readonly host: HostFacade,
    readonly phb: Phb,
  ) {}
  get id(): number {
    return this.phb.id;
  }
  addGroup(opts: { devices?: string[]; kernelDma?: boolean } = {}): IommuGroupApi {
    const o = need(opts, 'addGroup');
    let devices: string[];
    if (o.devices === undefined) devices = [`000${this.phb.id}:0${this.phb.groups.length + 1}:00.0`];
    else {
      if (
        !Array.isArray(o.devices) ||
        o.devices.length === 0 ||
        !o.devices.every((d) => typeof d === 'string')
      ) {
        throw new ScenarioError('addGroup: devices must be a non-empty array of PCI address strings');
      }
      devices = [...o.devices] as string[];
    }
    const kernelDma = Boolean(o.kernelDma);
    if (kernelDma && this.phb.model !== 'IODA1')
      throw new ScenarioError('addGroup: kernelDma applies to IODA1 groups only');
    const g = this.host.k.addGroup(this.phb, devices, kernelDma);
    return new GroupRef(this.host, g);
  }
}

export class GroupRef implements IommuGroupApi {
  constructor(
    readonly host: HostFacade,
    readonly group: Group,
  ) {}
  get id(): number {
    return this.group.id;
  }
  get name(): string {
    return this.group.name;
  }
}

// ------------------------------------------------------------------------------------------------

export class ProcessFacade implements ProcessApi {
  constructor(
    readonly host: HostFacade,
    readonly p: Proc,
  ) {}

  private get k(): Kernel {
    return this.host.k;
  }

  private alive(what: string): void {
    if (this.p.exited) throw new ScenarioError(`${what}: process ${this.p.pid} (${this.p.name}) has exited`);
  }

  get pid(): number {
    return this.p.pid;
  }
  get name(): string {
    return this.p.name;
  }
  get lockedVm(): number {
    return this.p.mm.lockedVm;
  }
  get lockedVmBytes(): bigint {
    return BigInt(this.p.mm.lockedVm) * BigInt(this.k.pageSize);
  }
  get memlock(): bigint {
    return this.p.memlock;
  }
  set memlock(v: bigint) {
    this.alive('memlock');
    const b = toBig(v, 'memlock');
    this.p.memlock = b;
    this.k.changes.touchProcess(this.p.pid);
    this.host.rec.action(
      this.k,
      this.p,
      'setrlimit',
      { memlock: b },
      `RLIMIT_MEMLOCK of pid ${this.p.pid} set to ${b} bytes (${b >> BigInt(this.k.pageShift)} pages)`,
    );
  }
  get capIpcLock(): boolean {
    return this.p.capIpcLock;
  }
  set capIpcLock(v: boolean) {
    this.alive('capIpcLock');
    this.p.capIpcLock = Boolean(v);
    this.k.changes.touchProcess(this.p.pid);
    this.host.rec.action(
      this.k,
      this.p,
      'capset',
      { capIpcLock: this.p.capIpcLock },
      `pid ${this.p.pid} ${this.p.capIpcLock ? 'has' : 'lacks'} CAP_IPC_LOCK now`,
    );
  }

  mmap(opts: MmapOptions): bigint {
    this.alive('mmap');
    const o = need(opts, 'mmap');
    const size = req(o, 'size', 'mmap');
    const at = o.at === undefined ? undefined : toBig(o.at, 'mmap: at');
    const prot = o.prot ?? 'rw';
    if (prot !== 'rw' && prot !== 'r')
      throw new ScenarioError(`mmap: prot must be 'rw' or 'r', got ${String(prot)}`);
    if (o.hugepage !== undefined && o.hugepage !== '16M')
      throw new ScenarioError(`mmap: hugepage must be '16M', got ${String(o.hugepage)}`);
    if (size > 1n << 52n) throw new ScenarioError(`mmap: size ${size} is larger than the user address space`);
    if (at !== undefined && at >= 1n << 52n)
      throw new ScenarioError(
        `mmap: address 0x${at.toString(16)} is beyond the user address space (0x10000000000000)`,
      );
    const r = this.k.mmap(
      this.p,
      Number(size),
      at === undefined ? undefined : Number(at),
      prot === 'rw',
      o.hugepage === '16M',
    );
    if (typeof r === 'string') throw new ScenarioError(r);
    const addr = BigInt(r);
    this.host.rec.action(
      this.k,
      this.p,
      'mmap',
      { addr, size, prot, hugepage: o.hugepage === '16M' ? '16M' : 'no' },
      `anonymous ${prot === 'r' ? 'read-only' : 'read-write'} mapping of ${size} bytes at 0x${addr.toString(16)}${o.hugepage ? ' backed by 16 MiB hugetlb pages' : ''}`,
    );
    return addr;
  }

  munmap(vaddr: BigIntLike, size: BigIntLike): void {
    this.alive('munmap');
    const v = toBig(vaddr, 'munmap: vaddr');
    const s = toBig(size, 'munmap: size');
    if (v >= 1n << 52n || s > 1n << 52n)
      throw new ScenarioError('munmap: range is beyond the user address space');
    const ps = this.k.pageSize;
    const locked =
      Number(v) % ps === 0 && s > 0n
        ? unmapLocked(this.p.mm, Number(v), Number(v) + Math.ceil(Number(s) / ps) * ps)
        : 0;
    const e = this.k.munmap(this.p, Number(v), Number(s));
    if (e) throw new ScenarioError(e);
    if (locked) this.k.changes.touchProcess(this.p.pid);
    this.host.rec.action(
      this.k,
      this.p,
      'munmap',
      { vaddr: v, size: s },
      `unmapped ${s} bytes at 0x${v.toString(16)}; pages pinned by registrations stay pinned${locked ? `; ${locked} VM_LOCKED pages left locked_vm (§13.10.3)` : ''}`,
    );
  }

  hpa(vaddr: BigIntLike): bigint {
    const v = toBig(vaddr, 'hpa: vaddr');
    const e = v < 1n << 52n ? this.p.mm.mappingAt(Number(v)) : undefined;
    if (!e) throw new ScenarioError(`hpa: 0x${v.toString(16)} is not mapped in process ${this.p.pid}`);
    return BigInt(e.phys + (Number(v) - e.start));
  }

  pins(vaddr: BigIntLike): number {
    const v = toBig(vaddr, 'pins: vaddr');
    return v < 1n << 52n ? this.k.pins(this.p, Number(v)) : 0;
  }

  regions(): RegionInfo[] {
    return this.p.mm.regions.map((r) => {
      const info: RegionInfo = {
        ua: BigInt(r.ua),
        size: BigInt(r.size),
        entries: r.entries,
        used: r.used,
        mapped: r.mapped,
      };
      if (r.pageShift !== undefined) info.pageShift = r.pageShift;
      return info;
    });
  }

  openContainer(): ContainerApi {
    this.alive('openContainer');
    const f = vfioFopsOpen(this.k, this.p);
    this.host.rec.action(
      this.k,
      this.p,
      'open',
      { path: '/dev/vfio/vfio', container: f.container.id },
      `container ${f.container.id} opened (no IOMMU driver yet)`,
    );
    return new ContainerFacade(this.host, this, f);
  }

  openGroup(group: IommuGroupApi): GroupFdApi {
    this.alive('openGroup');
    if (!(group instanceof GroupRef) || group.host !== this.host)
      throw new ScenarioError('openGroup: not an IOMMU group of this host (use phb.addGroup())');
    const r = vfioGroupFopsOpen(this.k, this.p, group.group);
    const fd = new GroupFdFacade(this.host, this, group.group, r instanceof GroupFile ? r : null);
    const ev = this.host.rec.action(
      this.k,
      this.p,
      'open',
      { path: `/dev/vfio/${group.group.id}` },
      r instanceof GroupFile ? `group ${group.group.name} opened` : r.explain,
    );
    if (!(r instanceof GroupFile)) {
      fd.ret = r.ret;
      fd.errno = errnoName(r.ret);
      ev.explain = whyText(r.explain, r.cite);
      ev.cite = r.cite;
    }
    return fd;
  }

  adopt(container: ContainerApi): ContainerApi {
    this.alive('adopt');
    if (!(container instanceof ContainerFacade) || container.host !== this.host)
      throw new ScenarioError('adopt: not a container of this host');
    if (!container.f.open)
      throw new ScenarioError(
        `adopt: container ${container.f.container.id}'s fd is closed in pid ${container.proc.pid}; only an open fd can be passed`,
      );
    const f = vfioFileDup(this.k, this.p, container.f);
    this.host.rec.action(
      this.k,
      this.p,
      'adopt',
      { container: f.container.id, from: container.proc.pid },
      `pid ${this.p.pid} received container ${f.container.id}'s fd from pid ${container.proc.pid} (fd passing)`,
    );
    return new ContainerFacade(this.host, this, f);
  }

  openKvm(): KvmVmApi {
    return this.host.kvm.openKvm(this);
  }

  mlock(args: { addr: BigIntLike; size: BigIntLike }): IoctlResult {
    return this.host.kvm.mlock(this, args, true);
  }

  munlock(args: { addr: BigIntLike; size: BigIntLike }): IoctlResult {
    return this.host.kvm.mlock(this, args, false);
  }

  exit(): void {
    this.alive('exit');
    this.host.kvm.exit(this.k, this.p); // its KVM table, device and VM fds close with the others (§13.5)
    this.k.exit(this.p);
    this.host.rec.action(
      this.k,
      this.p,
      'exit',
      {},
      this.k.profile.accountTo === 'current'
        ? `process ${this.p.pid} exited: mm torn down first (regions freed without accounting), then its fds were closed with no current->mm (§5.6)`
        : `process ${this.p.pid} exited: its fds were closed; containers un-charge through their own mm reference (§5.6)`,
    );
  }
}

export type { LockedVmBreakdown, ActionEvent };
