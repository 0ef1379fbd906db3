/**
 * Scenario-API layer: models no kernel file. The hypercall object of a VM (scenario-api.md §2.1.3): a
 * guest's TCE hypercall with its arguments checked, dispatched as KVM would (kvm/book3s-hv.ts, the
 * in-kernel handlers of kvm/book3s-64-vio.ts) and, on an exit to userspace, answered by QEMU's handler
 * (qemu/spapr-iommu.ts); one event per hypercall.
 */
import { whyText } from '../cite.ts';
import { ScenarioError, type BigIntLike } from '../api.ts';
import type { HcallCall, HcallResult, KvmHcallsApi } from './api.ts';
import { H_NAMES } from './book3s-64-vio.ts';
import { dispatchHcall, type HcallArgs } from './book3s-hv.ts';
import { H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE } from './era.ts';
import { HCALL_NAMES } from './powerpc.ts';
import { alive, big, hex, liobnOf, need, u32 } from './facade-args.ts';
import type { KvmVmFacade } from './facade.ts';

export function hcallName(ret: number): string {
  return H_NAMES[ret] ?? `H_${ret}`;
}

export function callOf(a: HcallArgs): HcallCall {
  const c: HcallCall = { hcall: a.hcall, liobn: Number(a.liobn), ioba: a.ioba };
  if (a.tce !== undefined) c.tce = a.tce;
  if (a.tces !== undefined) c.tces = [...a.tces];
  if (a.listGpa !== undefined) c.listGpa = a.listGpa;
  if (a.npages !== undefined) c.npages = a.npages;
  return c;
}

/** the event args of an hcall: liobn, ioba and the hcall's own fields */
export function hcallArgs(a: HcallArgs): Record<string, bigint | number | string | boolean> {
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
