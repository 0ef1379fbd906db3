/**
 * Scenario-API layer: models no kernel file. How the KVM facades (kvm/facade.ts, kvm/facade-hcalls.ts,
 * kvm/facade-qemu.ts) check and convert a scenario's values (objects, u32 fields, LIOBNs, bigints, a live
 * process) and turn a KVM result into the IoctlResult the scenario gets; and the KVM state of a host,
 * created on first use.
 */
import { whyText } from '../cite.ts';
import { ScenarioError, type IoctlResult } from '../api.ts';
import { errnoName } from '../errno.ts';
import { toBig } from '../facade-args.ts';
import type { Kernel, Proc } from '../kernel.ts';
import { Kvm, kvmOfHost, setKvmOfHost, type KRes, type KvmProfile } from './kvm-main.ts';

export const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** the KVM state of one emulated host (created on first use) */
export function kvmOf(k: Kernel): Kvm {
  let kvm = kvmOfHost(k);
  if (!kvm) {
    kvm = new Kvm({
      profile: k.profile as KvmProfile,
      pageShift: k.pageShift,
      changes: k.changes,
      containerOf: (g) => (g.container === null ? null : k.containerById(g.container)),
    });
    setKvmOfHost(k, kvm);
  }
  return kvm;
}

export function toResult<Out>(r: KRes<Out>): IoctlResult<Out> {
  const out: IoctlResult<Out> = { ret: r.ret, explain: whyText(r.explain, r.cite) };
  if (r.ret < 0) out.errno = errnoName(r.ret) ?? `E${-r.ret}`;
  else if (r.out !== undefined) out.out = r.out;
  return out;
}

export function need(args: unknown, what: string): Record<string, unknown> {
  if (args === null || typeof args !== 'object')
    throw new ScenarioError(`${what}: the argument must be an object`);
  return args as Record<string, unknown>;
}

export function u32(v: unknown, what: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v === 'bigint' && v >= 0n && v <= 0xffffffffn) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new ScenarioError(
      `${what} must be an integer from 0 to 2^32-1, got ${typeof v === 'number' ? v : typeof v}`,
    );
  return v;
}

/** LIOBNs are u32 numbers as QEMU uses them (scenario-api.md §2.1.1) */
export function liobnOf(v: unknown, what: string): number {
  return u32(v, `${what}: liobn`);
}

export function big(v: unknown, what: string): bigint {
  return toBig(v, what);
}

/** the process behind a facade must be alive for any call it makes */
export function alive(p: Proc, what: string): void {
  if (p.exited) throw new ScenarioError(`${what}: process ${p.pid} (${p.name}) has exited`);
}
