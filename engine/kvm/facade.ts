/**
 * The KVM scenario API objects (scenario-api.md §2.1) over the emulated KVM (engine/kvm/*) and QEMU's
 * userspace twin (engine/qemu/spapr-iommu.ts). As in engine/facade.ts: convert and check the scenario's
 * values (bad values are ScenarioErrors at the call's line), issue the call, record one event per call.
 */
import { kvmMain, SYS_IOCTL, whyText } from '../cite.ts';
import {
  ScenarioError,
  type BigIntLike,
  type ContainerApi,
  type GroupFdApi,
  type IoctlResult,
} from '../api.ts';
import type { IoctlEvent } from '../events.ts';
import {
  ContainerFacade,
  GroupFdFacade,
  type HostFacade,
  type KvmHooks,
  type ProcessFacade,
} from '../facade.ts';
import type { Kernel, Proc } from '../kernel.ts';
import { mlock, munlock } from '../mm/mlock.ts';
import { QemuSpapr, QemuTable, type Listener } from '../qemu/spapr-iommu.ts';
import type {
  HcallCall,
  HcallResult,
  KvmHcallsApi,
  KvmVfioDeviceApi,
  KvmVmApi,
  QemuSpaprApi,
  QemuTceTableApi,
  QemuVfioCall,
  SpaprTceTableApi,
} from './api.ts';
import { H_NAMES, H_TOO_HARD, releaseSpaprTce, type KvmTceTable } from './book3s-64-vio.ts';
import { dispatchHcall, type HcallArgs } from './book3s-hv.ts';
import { H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE } from './era.ts';
import { kvmOfHost, type KRes, type KvmProfile, type KvmVm } from './kvm-main.ts';
import {
  checkExtension,
  createSpaprTce64,
  createSpaprTceLegacy,
  enableHcall,
  HCALL_NAMES,
} from './powerpc.ts';
import {
  closeVfioDevice,
  createVfioDevice,
  groupAdd,
  groupDel,
  setSpaprTce,
  type KvmVfioDevice,
} from './vfio.ts';

import { alive, big, hex, kvmOf, liobnOf, need, toResult, u32 } from './facade-args.ts';

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

// ------------------------------------------------------------------------------------------------
// hypercalls (scenario-api.md §2.1.3)

function hcallName(ret: number): string {
  return H_NAMES[ret] ?? `H_${ret}`;
}

function callOf(a: HcallArgs): HcallCall {
  const c: HcallCall = { hcall: a.hcall, liobn: Number(a.liobn), ioba: a.ioba };
  if (a.tce !== undefined) c.tce = a.tce;
  if (a.tces !== undefined) c.tces = [...a.tces];
  if (a.listGpa !== undefined) c.listGpa = a.listGpa;
  if (a.npages !== undefined) c.npages = a.npages;
  return c;
}

/** the event args of an hcall: liobn, ioba and the hcall's own fields */
function hcallArgs(a: HcallArgs): Record<string, bigint | number | string | boolean> {
  const o: Record<string, bigint | number | string | boolean> = { liobn: a.liobn, ioba: a.ioba };
  if (a.tce !== undefined) o[a.hcall === H_STUFF_TCE ? 'value' : 'tce'] = a.tce;
  if (a.listGpa !== undefined) o.listGpa = a.listGpa;
  if (a.npages !== undefined) o.npages = a.npages;
  if (a.tces !== undefined) o.tces = a.tces.map((x) => hex(x)).join(',');
  return o;
}

export class KvmHcallsFacade implements KvmHcallsApi {
  constructor(readonly vmf: KvmVmFacade) {}

  private issue(a: HcallArgs): HcallResult {
    const vmf = this.vmf;
    const name = HCALL_NAMES[a.hcall]!;
    alive(vmf.proc.p, name);
    if (!vmf.vm.fdOpen)
      throw new ScenarioError(
        `${name}: the VM fd was closed (vm.close()): its guest cannot issue hypercalls`,
      );
    const d = dispatchHcall(vmf.vm, a);
    const r: HcallResult = {
      ret: d.ret,
      name: hcallName(d.ret),
      handledBy: d.handledBy,
      call: callOf(a),
      explain: whyText(d.explain, d.cite),
    };
    if (d.mode) r.mode = d.mode;
    if (d.value !== undefined) r.value = d.value;
    vmf.host.rec.hcall(vmf.host.k, vmf.proc.p, vmf.vm.id, name, hcallArgs(a), r, d.cite);
    return r;
  }

  putTce(liobn: number, ioba: BigIntLike, tce: BigIntLike): HcallResult {
    return this.issue({
      hcall: H_PUT_TCE,
      liobn: BigInt(liobnOf(liobn, 'putTce')),
      ioba: big(ioba, 'putTce: ioba'),
      tce: big(tce, 'putTce: tce'),
    });
  }

  putTceIndirect(
    liobn: number,
    ioba: BigIntLike,
    tces: BigIntLike[],
    opts: { listGpa?: BigIntLike; npages?: number } = {},
  ): HcallResult {
    const op = 'putTceIndirect';
    if (!Array.isArray(tces)) throw new ScenarioError(`${op}: tces must be an array of TCE values`);
    if (tces.length > 4096)
      throw new ScenarioError(`${op}: ${tces.length} TCEs do not fit the guest's list page`);
    const o = need(opts, op);
    return this.issue({
      hcall: H_PUT_TCE_INDIRECT,
      liobn: BigInt(liobnOf(liobn, op)),
      ioba: big(ioba, `${op}: ioba`),
      tces: tces.map((x, i) => big(x, `${op}: tces[${i}]`)),
      listGpa: o.listGpa === undefined ? 0n : big(o.listGpa, `${op}: listGpa`),
      npages: o.npages === undefined ? tces.length : u32(o.npages, `${op}: npages`),
    });
  }

  stuffTce(liobn: number, ioba: BigIntLike, value: BigIntLike, npages: number): HcallResult {
    const op = 'stuffTce';
    const n = u32(npages, `${op}: npages`);
    if (n > 1 << 24)
      throw new ScenarioError(`${op}: npages ${n} is larger than this emulator handles in one call`);
    return this.issue({
      hcall: H_STUFF_TCE,
      liobn: BigInt(liobnOf(liobn, op)),
      ioba: big(ioba, `${op}: ioba`),
      tce: big(value, `${op}: value`),
      npages: n,
    });
  }

  getTce(liobn: number, ioba: BigIntLike): HcallResult {
    return this.issue({
      hcall: H_GET_TCE,
      liobn: BigInt(liobnOf(liobn, 'getTce')),
      ioba: big(ioba, 'getTce: ioba'),
    });
  }
}

// ------------------------------------------------------------------------------------------------
// QEMU (scenario-api.md §2.1.4)

export class QemuTceTableFacade implements QemuTceTableApi {
  constructor(readonly t: QemuTable<IoctlResult>) {}
  get liobn(): number {
    return Number(this.t.liobn);
  }
  get pageShift(): number {
    return this.t.pageShift;
  }
  get busOffset(): bigint {
    return this.t.busOffset;
  }
  get entries(): number {
    return this.t.entries;
  }
  get kvmBacked(): boolean {
    return this.t.kvm !== null;
  }
  tce(index: number): bigint {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= this.t.entries)
      throw new ScenarioError(
        `tce: index ${String(index)} is outside QEMU's table (0 .. ${this.t.entries - 1})`,
      );
    return this.t.get(index);
  }
}

export class QemuSpaprFacade implements QemuSpaprApi {
  readonly q: QemuSpapr<IoctlResult>;
  constructor(readonly vmf: KvmVmFacade) {
    this.q = new QemuSpapr((gpa) => {
      const ua = vmf.vm.gpaToUa(gpa);
      return ua;
    });
  }

  addTable(opts: {
    liobn?: number;
    pageShift?: number;
    busOffset?: BigIntLike;
    entries?: number;
    kvm?: SpaprTceTableApi;
    container?: ContainerApi;
  }): QemuTceTableApi {
    const op = 'qemu.addTable';
    const o = need(opts, op);
    const kvm = o.kvm === undefined ? null : this.vmf.tableArg(o.kvm as SpaprTceTableApi, op);
    if (kvm === null && o.liobn === undefined)
      throw new ScenarioError(`${op}: liobn is required unless kvm is given`);
    if (kvm === null && o.entries === undefined)
      throw new ScenarioError(`${op}: entries is required unless kvm is given`);
    const liobn = o.liobn === undefined ? kvm!.liobn : BigInt(liobnOf(o.liobn, op));
    const pageShift =
      o.pageShift === undefined ? (kvm ? kvm.pageShift : 12) : u32(o.pageShift, `${op}: pageShift`);
    if (pageShift < 12 || pageShift > 34)
      throw new ScenarioError(`${op}: pageShift ${pageShift} is outside 12..34`);
    const busOffset =
      o.busOffset === undefined
        ? kvm
          ? kvm.offset << BigInt(kvm.pageShift)
          : 0n
        : big(o.busOffset, `${op}: busOffset`);
    const entries = o.entries === undefined ? Number(kvm!.size) : u32(o.entries, `${op}: entries`);
    let listener: Listener<IoctlResult> | null = null;
    if (o.container !== undefined) {
      const c = o.container;
      if (!(c instanceof ContainerFacade) || c.host !== this.vmf.host)
        throw new ScenarioError(`${op}: container is not a VFIO container of this host`);
      listener = {
        map: (vaddr, iova, size, flags) => c.mapDma({ vaddr, iova, size, flags }),
        unmap: (iova, size) => c.unmapDma({ iova, size }),
      };
    }
    const t = new QemuTable<IoctlResult>(liobn, pageShift, busOffset, entries, kvm, listener);
    const err = this.q.addTable(t);
    if (err) throw new ScenarioError(`${op}: ${err}`);
    return new QemuTceTableFacade(t);
  }

  handle(r: HcallResult): HcallResult {
    const op = 'qemu.handle';
    const o = need(r, op);
    if (o.handledBy === 'kernel') return r;
    if (o.handledBy !== 'qemu')
      throw new ScenarioError(`${op}: not a hypercall result (handledBy must be 'kernel' or 'qemu')`);
    const c = need(o.call, `${op}: call`);
    const hcall = u32(c.hcall, `${op}: call.hcall`);
    const name = HCALL_NAMES[hcall];
    if (!name) throw new ScenarioError(`${op}: call.hcall ${hex(hcall)} is not a TCE hypercall`);
    const a: HcallArgs = {
      hcall,
      liobn: BigInt(liobnOf(c.liobn, op)),
      ioba: big(c.ioba, `${op}: call.ioba`),
    };
    if (c.tce !== undefined) a.tce = big(c.tce, `${op}: call.tce`);
    if (c.tces !== undefined) {
      if (!Array.isArray(c.tces)) throw new ScenarioError(`${op}: call.tces must be an array`);
      a.tces = c.tces.map((x, i) => big(x, `${op}: call.tces[${i}]`));
    }
    if (c.listGpa !== undefined) a.listGpa = big(c.listGpa, `${op}: call.listGpa`);
    if (c.npages !== undefined) a.npages = u32(c.npages, `${op}: call.npages`);
    const vmf = this.vmf;
    alive(vmf.proc.p, op);
    if (o.ret !== H_TOO_HARD) return r; // already answered (a QEMU result handed back again)
    const q = this.q.handle(a);
    const vfio: QemuVfioCall[] = q.vfio.map((x) => {
      const v: QemuVfioCall = { op: x.op, iova: x.iova, size: x.size, result: x.result };
      if (x.vaddr !== undefined) v.vaddr = x.vaddr;
      if (x.flags !== undefined) v.flags = x.flags;
      return v;
    });
    const out: HcallResult = {
      ret: q.ret,
      name: hcallName(q.ret),
      handledBy: 'qemu',
      call: callOf(a),
      vfio,
      explain: whyText(q.explain, q.cite),
    };
    if (q.value !== undefined) out.value = q.value;
    vmf.host.rec.hcall(vmf.host.k, vmf.proc.p, vmf.vm.id, name, hcallArgs(a), out, q.cite);
    return out;
  }
}
