/**
 * Scenario-API layer: models no kernel file. How the facades (facade.ts, facade-group.ts,
 * facade-container.ts, kvm/facade.ts) check and convert a scenario's values before any kernel function
 * sees them (scenario-api.md §1: bigints, u32 fields, required members, a `guest` option), and how a
 * kernel result becomes the IoctlResult the scenario gets.
 */
import { whyText } from './cite.ts';
import { ScenarioError, type IoctlResult } from './api.ts';
import { errnoName } from './errno.ts';
import type { Res } from './kernel.ts';
import type { GuestSpec } from './memlock.ts';

const U64_MAX = (1n << 64n) - 1n;

/** scenario-api.md §1: bigint, or a safe-integer number; anything else is the author's error */
export function toBig(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw new ScenarioError(`${what} = ${v} is outside 0 .. 2^64-1`);
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new ScenarioError(
        `${what} = ${v} is not a safe integer: write it as a bigint literal (e.g. 0x${Number.isFinite(v) ? Math.trunc(v).toString(16) : '800000000000000'}n)`,
      );
    }
    if (v < 0) throw new ScenarioError(`${what} = ${v} is negative`);
    return BigInt(v);
  }
  throw new ScenarioError(
    `${what} must be a bigint (or a safe integer number), got ${v === null ? 'null' : typeof v}`,
  );
}

/** u32 fields (flags, argsz, page shift, levels, op) */
export function toU32(v: unknown, what: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new ScenarioError(
      `${what} must be an integer from 0 to 2^32-1, got ${typeof v === 'number' ? v : typeof v}`,
    );
  }
  return v;
}

export function need(args: unknown, what: string): Record<string, unknown> {
  if (args === null || typeof args !== 'object')
    throw new ScenarioError(`${what}: the argument must be an object`);
  return args as Record<string, unknown>;
}

export function req(a: Record<string, unknown>, key: string, op: string): bigint {
  if (a[key] === undefined) throw new ScenarioError(`${op}: missing ${key}`);
  return toBig(a[key], `${op}: ${key}`);
}

export function toResult<Out>(r: Res<Out>): IoctlResult<Out> {
  const out: IoctlResult<Out> = { ret: r.ret, explain: whyText(r.explain, r.cite) };
  if (r.ret < 0) out.errno = errnoName(r.ret) ?? `E${-r.ret}`;
  else if (r.out !== undefined) out.out = r.out;
  return out;
}

/** a `guest` option (api.ts GuestOptions) checked and with its defaults filled in */
export function guestOf(v: unknown, what: string): GuestSpec {
  const o = need(v, what);
  const known = ['ram', 'maxRam', 'phbs', 'passthrough', 'nvlink2', 'hardLimit', 'locked', 'accel'];
  for (const key of Object.keys(o))
    if (!known.includes(key))
      throw new ScenarioError(`${what}: unknown field '${key}' (${known.join(', ')})`);
  if (o.ram === undefined) throw new ScenarioError(`${what}: ram (the guest's RAM in bytes) is required`);
  const ram = toBig(o.ram, `${what}.ram`);
  if (ram === 0n || ram % 1024n !== 0n)
    throw new ScenarioError(`${what}.ram must be a non-zero multiple of 1 KiB, got ${ram}`);
  const maxRam = o.maxRam === undefined ? ram : toBig(o.maxRam, `${what}.maxRam`);
  if (maxRam < ram || maxRam % 1024n !== 0n)
    throw new ScenarioError(`${what}.maxRam must be a multiple of 1 KiB and at least ram, got ${maxRam}`);
  const count = (key: string, dflt: number, min: number): number => {
    const x = o[key];
    if (x === undefined) return dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 4096)
      throw new ScenarioError(`${what}.${key} must be an integer from ${min} to 4096, got ${String(x)}`);
    return x;
  };
  const phbs = count('phbs', 1, 1);
  const passthrough = count('passthrough', 0, 0);
  const flag = (key: string): boolean => {
    const x = o[key];
    if (x !== undefined && typeof x !== 'boolean')
      throw new ScenarioError(`${what}.${key} must be true or false, got ${typeof x}`);
    return x === true;
  };
  const nvlink2 = flag('nvlink2');
  if (nvlink2 && passthrough === 0)
    throw new ScenarioError(`${what}.nvlink2 needs a passed-through device (passthrough >= 1)`);
  const hardLimit = o.hardLimit === undefined ? null : toBig(o.hardLimit, `${what}.hardLimit`);
  if (hardLimit !== null && hardLimit % 1024n !== 0n)
    throw new ScenarioError(
      `${what}.hardLimit must be a multiple of 1 KiB (libvirt takes KiB), got ${hardLimit}`,
    );
  const accel = o.accel ?? 'kvm';
  if (accel !== 'kvm' && accel !== 'tcg')
    throw new ScenarioError(`${what}.accel must be 'kvm' or 'tcg', got ${String(accel)}`);
  return { ram, maxRam, phbs, passthrough, nvlink2, hardLimit, locked: flag('locked'), accel };
}
