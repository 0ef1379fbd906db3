/**
 * What an emulated kernel function returns: `ret` as the kernel handler returns it (0, a positive value, or
 * -errno) and `explain`, the rule that decided it. Shared by every file of the emulated kernel.
 */
import { errno, type ErrnoName } from './errno.ts';

export interface Res<Out = undefined> {
  ret: number;
  explain: string;
  out?: Out;
}

export function fail(name: ErrnoName, explain: string): Res<never> {
  return { ret: -errno[name], explain };
}

export function ok<Out>(explain: string, out?: Out): Res<Out> {
  return out === undefined ? { ret: 0, explain } : { ret: 0, explain, out };
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);
