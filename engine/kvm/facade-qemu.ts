/**
 * Scenario-API layer: models no kernel file. The QEMU object of a VM (scenario-api.md §2.1.4): QEMU's
 * userspace TCE tables (qemu/spapr-iommu.ts) with their arguments checked, and the VFIO listener calls
 * they issue through the container facade.
 */
import { whyText } from '../cite.ts';
import { ScenarioError, type BigIntLike, type ContainerApi, type IoctlResult } from '../api.ts';
import { ContainerFacade } from '../facade.ts';
import { QemuSpapr, QemuTable, type Listener } from '../qemu/spapr-iommu.ts';
import type { HcallResult, QemuSpaprApi, QemuTceTableApi, QemuVfioCall, SpaprTceTableApi } from './api.ts';
import { H_TOO_HARD } from './book3s-64-vio.ts';
import type { HcallArgs } from './book3s-hv.ts';
import { HCALL_NAMES } from './powerpc.ts';
import { alive, big, hex, liobnOf, need, u32 } from './facade-args.ts';
import type { KvmVmFacade } from './facade.ts';
import { callOf, hcallArgs, hcallName } from './facade-hcalls.ts';

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
