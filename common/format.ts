/**
 * How addresses and ioctl arguments are written everywhere a person reads them (CLI log, report, event
 * log, profile comparison): bigints in hex, everything else as itself. Imports nothing.
 */

/** `0x…` for a bigint or number; a string is taken as already formatted */
export const hex = (v: bigint | number | string): string =>
  typeof v === 'string' ? v : '0x' + v.toString(16);

/** decoded arguments as `key=value` pairs: bigints (addresses, sizes) in hex, strings as they are */
export function formatArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

function formatValue(v: unknown): string {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? hex(x) : x));
}
