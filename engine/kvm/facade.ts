/**
 * Scenario API layer: models no kernel file.
 * The KVM scenario API objects (scenario-api.md §2.1) over the emulated KVM (engine/kvm/*) and QEMU's
 * userspace twin (engine/qemu/spapr-iommu.ts). As in engine/facade.ts: convert and check the scenario's
 * values (bad values are ScenarioErrors at the call's line), issue the call, record one event per call.
 */
import { kvmMain, SYS_IOCTL, whyText } from '../cite.ts';
import { ScenarioError, type BigIntLike, type GroupFdApi, type IoctlResult } from '../api.ts';
import type { IoctlEvent } from '../events.ts';
import { GroupFdFacade, type HostFacade, type KvmHooks, type ProcessFacade } from '../facade.ts';
import type { Kernel, Proc } from '../kernel.ts';
import { mlock, munlock } from '../mm/mlock.ts';
import type { KvmVfioDeviceApi, KvmVmApi, SpaprTceTableApi } from './api.ts';
import { releaseSpaprTce, type KvmTceTable } from './book3s-64-vio.ts';
import { kvmOfHost, type KRes, type KvmProfile, type KvmVm } from './kvm-main.ts';
import { checkExtension, createSpaprTce64, createSpaprTceLegacy, enableHcall } from './powerpc.ts';
import {
  closeVfioDevice,
  createVfioDevice,
  groupAdd,
  groupDel,
  setSpaprTce,
  type KvmVfioDevice,
} from './vfio.ts';
import { alive, big, hex, kvmOf, liobnOf, need, toResult, u32 } from './facade-args.ts';
import { KvmHcallsFacade } from './facade-hcalls.ts';
import { QemuSpaprFacade } from './facade-qemu.ts';

// ------------------------------------------------------------------------------------------------
// Process additions: openKvm, mlock, munlock (scenario-api.md §2.1.2)

const vmFacades = new WeakMap<KvmVm, KvmVmFacade>();

export function openKvm(pf: ProcessFacade): KvmVmApi {
  alive(pf.p, 'openKvm');
  const k = pf.host.k;
  const vm = kvmOf(k).createVm(pf.p);
  const f = new KvmVmFacade(pf, vm);
  vmFacades.set(vm, f);
  pf.host.rec.ioctl(
    k,
    pf.p,
    { type: 'kvm', id: vm.id },
    'KVM_CREATE_VM',
    { type: 0 },
    {
      ret: 0,
      explain: `VM ${vm.id}: open("/dev/kvm") + KVM_CREATE_VM(0): a KVM-HV VM bound to pid ${pf.p.pid}'s mm; the HPT is not charged to locked_vm (§13.3)`,
      cite: kvmMain('kvm_create_vm'),
    },
    { ret: 0 },
  );
  return f;
}

export function mlockCall(
  pf: ProcessFacade,
  args: { addr: BigIntLike; size: BigIntLike },
  lock: boolean,
): IoctlResult {
  const op = lock ? 'mlock' : 'munlock';
  alive(pf.p, op);
  const a = need(args, op);
  const addr = big(a.addr, `${op}: addr`);
  const size = big(a.size, `${op}: size`);
  if (addr + size > 1n << 52n) throw new ScenarioError(`${op}: range is beyond the user address space`);
  const k = pf.host.k;
  const p = pf.p;
  const r = lock
    ? mlock(
        p.mm,
        Number(addr),
        Number(size),
        p.memlock,
        p.capIpcLock,
        (k.profile as KvmProfile).mlockSubtractsLocked,
      )
    : munlock(p.mm, Number(addr), Number(size));
  if (r.pages) k.changes.touchProcess(p.pid);
  const ret = r.errno === null ? 0 : r.errno === 'EPERM' ? -1 : -12;
  const result: IoctlResult = { ret, explain: whyText(r.explain, r.cite) };
  if (r.errno) result.errno = r.errno;
  pf.host.rec.syscall(k, p, op, { addr, size }, ret, r.explain, r.cite);
  return result;
}

/** process exit (§13.5): the VMs, KVM tables and kvm-vfio devices of the process are closed */
export function exitKvm(k: Kernel, p: Proc): void {
  const kvm = kvmOfHost(k);
  if (!kvm) return;
  for (const vm of kvm.vms) {
    if (vm.proc !== p) continue;
    for (const t of [...vm.tables]) if (t.open && t.vm === vm) releaseSpaprTce(t);
    const f = vmFacades.get(vm);
    f?.closeAll();
  }
}

/** the Process members of §2.1.2, handed to each HostFacade by the session */
export const KVM_HOOKS: KvmHooks = { openKvm, mlock: mlockCall, exit: exitKvm };

// ------------------------------------------------------------------------------------------------

export class KvmVmFacade implements KvmVmApi {
  readonly hcall: KvmHcallsFacade;
  readonly qemu: QemuSpaprFacade;
  private device: KvmVfioDeviceFacade | null = null;
  readonly tableFacades = new Map<KvmTceTable, SpaprTceTableFacade>();

  constructor(
    readonly proc: ProcessFacade,
    readonly vm: KvmVm,
  ) {
    this.hcall = new KvmHcallsFacade(this);
    this.qemu = new QemuSpaprFacade(this);
  }

  get host(): HostFacade {
    return this.proc.host;
  }

  /** one VM ioctl: closed VM fd → EBADF; records an ioctl event on the VM fd */
  call<Out>(
    op: string,
    args: IoctlEvent['args'],
    fn: () => KRes<Out>,
    eventOut?: (o: Out) => Record<string, unknown>,
  ): IoctlResult<Out> {
    const p = this.proc.p;
    alive(p, op);
    const r: KRes<Out> = this.vm.fdOpen
      ? fn()
      : { ret: -9, explain: `${op}: the VM fd is closed (EBADF)`, cite: SYS_IOCTL };
    const forEvent: KRes<Out> =
      r.ret >= 0 && r.out !== undefined && eventOut
        ? { ...r, out: eventOut(r.out) as Out }
        : { ret: r.ret, explain: r.explain, cite: r.cite };
    return this.host.rec.ioctl(
      this.host.k,
      p,
      { type: 'vm', id: this.vm.id },
      op,
      args,
      forEvent,
      toResult(r),
    );
  }

  checkExtension(cap: number): IoctlResult {
    const c = u32(cap, 'checkExtension: cap');
    return this.call('KVM_CHECK_EXTENSION', { cap: c }, () => checkExtension(this.vm, c));
  }

  enableHcall(hcall: number, enable = true): IoctlResult {
    const h = u32(hcall, 'enableHcall: hcall');
    if (typeof enable !== 'boolean') throw new ScenarioError('enableHcall: enable must be a boolean');
    return this.call('KVM_ENABLE_CAP', { cap: 104, hcall: h, enable: enable ? 1 : 0 }, () =>
      enableHcall(this.vm, h, enable ? 1 : 0, 0),
    );
  }

  setUserMemoryRegion(args: {
    slot: number;
    guestPhysAddr: BigIntLike;
    memorySize: BigIntLike;
    userspaceAddr: BigIntLike;
    flags?: number;
  }): IoctlResult {
    const op = 'setUserMemoryRegion';
    const a = need(args, op);
    if (a.slot === undefined) throw new ScenarioError(`${op}: missing slot`);
    for (const f of ['guestPhysAddr', 'memorySize', 'userspaceAddr'])
      if (a[f] === undefined) throw new ScenarioError(`${op}: missing ${f}`);
    const m = {
      slot: u32(a.slot, `${op}: slot`),
      flags: u32(a.flags, `${op}: flags`, 0),
      gpa: big(a.guestPhysAddr, `${op}: guestPhysAddr`),
      size: big(a.memorySize, `${op}: memorySize`),
      ua: big(a.userspaceAddr, `${op}: userspaceAddr`),
    };
    return this.call(
      'KVM_SET_USER_MEMORY_REGION',
      { slot: m.slot, flags: m.flags, guestPhysAddr: m.gpa, memorySize: m.size, userspaceAddr: m.ua },
      () => this.vm.setUserMemoryRegion(m),
    );
  }

  private tableFacade(t: KvmTceTable): SpaprTceTableFacade {
    let f = this.tableFacades.get(t);
    if (!f) {
      f = new SpaprTceTableFacade(this, t);
      this.tableFacades.set(t, f);
    }
    return f;
  }

  createSpaprTce(args: { liobn: number; windowSize: BigIntLike }): IoctlResult<{ table: SpaprTceTableApi }> {
    const op = 'createSpaprTce';
    const a = need(args, op);
    const liobn = liobnOf(a.liobn, op);
    if (a.windowSize === undefined) throw new ScenarioError(`${op}: missing windowSize`);
    const ws = big(a.windowSize, `${op}: windowSize`);
    if (ws > 0xffffffffn)
      throw new ScenarioError(`${op}: windowSize ${ws} does not fit the struct's 32-bit window_size field`);
    const r = this.call(
      'KVM_CREATE_SPAPR_TCE',
      { liobn: BigInt(liobn), windowSize: ws },
      () => createSpaprTceLegacy(this.vm, BigInt(liobn), ws),
      (o) => ({ liobn, chargedPages: o.table.chargedPages }),
    );
    return this.wrapTable(r);
  }

  createSpaprTce64(args: {
    liobn: number;
    pageShift: number;
    offset: BigIntLike;
    size: BigIntLike;
    flags?: number;
  }): IoctlResult<{ table: SpaprTceTableApi }> {
    const op = 'createSpaprTce64';
    const a = need(args, op);
    const liobn = liobnOf(a.liobn, op);
    if (a.pageShift === undefined) throw new ScenarioError(`${op}: missing pageShift`);
    if (a.offset === undefined) throw new ScenarioError(`${op}: missing offset`);
    if (a.size === undefined) throw new ScenarioError(`${op}: missing size`);
    const m = {
      liobn: BigInt(liobn),
      pageShift: u32(a.pageShift, `${op}: pageShift`),
      flags: u32(a.flags, `${op}: flags`, 0),
      offset: big(a.offset, `${op}: offset`),
      size: big(a.size, `${op}: size`),
    };
    const r = this.call(
      'KVM_CREATE_SPAPR_TCE_64',
      { liobn: m.liobn, pageShift: m.pageShift, flags: m.flags, offset: m.offset, size: m.size },
      () => createSpaprTce64(this.vm, m),
      (o) => ({ liobn, chargedPages: o.table.chargedPages }),
    );
    return this.wrapTable(r);
  }

  private wrapTable(r: IoctlResult<{ table: KvmTceTable }>): IoctlResult<{ table: SpaprTceTableApi }> {
    if (!r.out) return r as unknown as IoctlResult<{ table: SpaprTceTableApi }>;
    return { ...r, out: { table: this.tableFacade(r.out.table) } };
  }

  createVfioDevice(): IoctlResult<{ device: KvmVfioDeviceApi }> {
    const r = this.call(
      'KVM_CREATE_DEVICE',
      { type: 4 },
      () => createVfioDevice(this.vm),
      () => ({ type: 'KVM_DEV_TYPE_VFIO' }),
    );
    if (!r.out) return r as unknown as IoctlResult<{ device: KvmVfioDeviceApi }>;
    const f = new KvmVfioDeviceFacade(this, r.out.device);
    this.device = f;
    return { ...r, out: { device: f } };
  }

  attachVfioGroup(group: GroupFdApi, table: SpaprTceTableApi): IoctlResult {
    const g = this.groupArg(group, 'attachVfioGroup');
    const t = this.tableArg(table, 'attachVfioGroup');
    if (!this.device) {
      const r = this.createVfioDevice();
      if (r.ret !== 0) return r as unknown as IoctlResult;
    }
    const d = this.device!;
    if (!d.d.groups.includes(g.group)) {
      const r = d.addGroup(group);
      if (r.ret !== 0) return r;
    }
    void t;
    return d.setSpaprTce(group, table);
  }

  get vfioDevice(): KvmVfioDeviceApi | null {
    return this.device;
  }

  close(): void {
    const p = this.proc.p;
    alive(p, 'close');
    if (!this.vm.fdOpen) return;
    this.vm.fdOpen = false;
    this.vm.put();
    this.host.rec.action(
      this.host.k,
      p,
      'close',
      { vm: this.vm.id },
      this.vm.destroyed
        ? `VM ${this.vm.id} fd closed: the last reference, the VM is destroyed (nothing to refund, §13.5)`
        : `VM ${this.vm.id} fd closed: ${this.vm.refs} reference(s) (TCE table or device fds) keep it alive; nothing refunded (§13.5)`,
    );
  }

  /** process exit: device and VM fds closed (tables were released already) */
  closeAll(): void {
    if (this.device && this.device.d.open) closeVfioDevice(this.device.d);
    if (this.vm.fdOpen) {
      this.vm.fdOpen = false;
      this.vm.put();
    }
  }

  groupArg(group: GroupFdApi, what: string): { group: GroupFdFacade['group']; open: boolean } {
    if (!(group instanceof GroupFdFacade) || group.host !== this.host)
      throw new ScenarioError(`${what}: not a group fd of this host (use process.openGroup())`);
    return { group: group.group, open: !!group.f && group.f.open };
  }

  tableArg(table: SpaprTceTableApi, what: string): KvmTceTable {
    if (!(table instanceof SpaprTceTableFacade) || table.vmf.host !== this.host)
      throw new ScenarioError(`${what}: not a KVM TCE table of this host (use vm.createSpaprTce64())`);
    return table.t;
  }
}

export class SpaprTceTableFacade implements SpaprTceTableApi {
  constructor(
    readonly vmf: KvmVmFacade,
    readonly t: KvmTceTable,
  ) {}
  get liobn(): number {
    return Number(this.t.liobn);
  }
  get pageShift(): number {
    return this.t.pageShift;
  }
  get offset(): bigint {
    return this.t.offset;
  }
  get size(): bigint {
    return this.t.size;
  }
  get chargedPages(): number {
    return this.t.chargedPages;
  }
  tce(index: number): bigint {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || BigInt(index) >= this.t.size)
      throw new ScenarioError(
        `tce: index ${String(index)} is outside LIOBN ${hex(this.t.liobn)}'s table (0 .. ${this.t.size - 1n})`,
      );
    return this.t.get(index);
  }
  close(): void {
    const p = this.vmf.proc.p;
    alive(p, 'close');
    if (!this.t.open) return;
    const text = releaseSpaprTce(this.t);
    this.vmf.host.rec.action(this.vmf.host.k, p, 'close', { liobn: this.t.liobn }, text);
  }
}

export class KvmVfioDeviceFacade implements KvmVfioDeviceApi {
  constructor(
    readonly vmf: KvmVmFacade,
    readonly d: KvmVfioDevice,
  ) {}

  private call(op: string, args: IoctlEvent['args'], fn: () => KRes): IoctlResult {
    const p = this.vmf.proc.p;
    alive(p, op);
    const r: KRes = this.d.open
      ? fn()
      : { ret: -9, explain: `${op}: the kvm-vfio device fd is closed (EBADF)`, cite: SYS_IOCTL };
    return this.vmf.host.rec.ioctl(
      this.vmf.host.k,
      p,
      { type: 'kvm-device', id: this.vmf.vm.id },
      op,
      args,
      r,
      toResult(r),
    );
  }

  addGroup(group: GroupFdApi): IoctlResult {
    const g = this.vmf.groupArg(group, 'addGroup');
    return this.call('KVM_DEV_VFIO_GROUP_ADD', { group: g.group.id }, () => groupAdd(this.d, g));
  }

  delGroup(group: GroupFdApi): IoctlResult {
    const g = this.vmf.groupArg(group, 'delGroup');
    return this.call('KVM_DEV_VFIO_GROUP_DEL', { group: g.group.id }, () => groupDel(this.d, g));
  }

  setSpaprTce(group: GroupFdApi, table: SpaprTceTableApi): IoctlResult {
    const g = this.vmf.groupArg(group, 'setSpaprTce');
    const t = this.vmf.tableArg(table, 'setSpaprTce');
    return this.call('KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE', { group: g.group.id, liobn: t.liobn }, () =>
      setSpaprTce(this.d, g, t),
    );
  }

  close(): void {
    const p = this.vmf.proc.p;
    alive(p, 'close');
    if (!this.d.open) return;
    const text = closeVfioDevice(this.d);
    this.vmf.host.rec.action(this.vmf.host.k, p, 'close', { device: 'kvm-vfio' }, text);
  }
}
