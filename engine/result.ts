/**
 * Engine infrastructure: models no kernel file.
 * What an emulated kernel function returns: `ret` as the kernel handler returns it (0, a positive value, or
 * -errno), `explain`, the rule that decided it, and `cite`, the kernel function that decides it (cite.ts).
 * Shared by every file of the emulated kernel.
 */
import type { Cite } from './cite.ts';
import { errno, type ErrnoName } from './errno.ts';

export interface Res<Out = undefined> {
  ret: number;
  explain: string;
  cite: Cite;
  out?: Out;
}

export function fail(name: ErrnoName, explain: string, cite: Cite): Res<never> {
  return { ret: -errno[name], explain, cite };
}

export function ok<Out>(explain: string, cite: Cite, out?: Out): Res<Out> {
  return out === undefined ? { ret: 0, explain, cite } : { ret: 0, explain, cite, out };
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);
