/** Formatting for the views: sizes, hex, permissions. Pure functions. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** 4294967296 → "4 GiB", 1536 → "1.5 KiB" (bigint or hex string accepted) */
export function bytes(v: bigint | number | string): string {
  let n = typeof v === 'bigint' ? v : BigInt(v);
  if (n < 0n) return `-${bytes(-n)}`;
  let u = 0;
  let rem = 0n;
  while (n >= 1024n && u < UNITS.length - 1) {
    rem = n % 1024n;
    n /= 1024n;
    u++;
  }
  if (rem === 0n || n >= 100n) return `${n} ${UNITS[u]}`;
  const frac = Number(rem) / 1024;
  return `${(Number(n) + frac).toFixed(n >= 10n ? 1 : 2).replace(/\.?0+$/, '')} ${UNITS[u]}`;
}

/** "0x7fff00000000" padded to `digits` hex digits after 0x (no padding if longer) */
export function hexPad(v: string, digits = 16): string {
  const body = v.startsWith('0x') ? v.slice(2) : v;
  return `0x${body.padStart(digits, '0')}`;
}

/** TCE permission bits (READ 1, WRITE 2) as the kernel's "R"/"W" */
export function perm(p: number): string {
  return p === 0 ? '—' : `${p & 1 ? 'R' : '-'}${p & 2 ? 'W' : '-'}`;
}

/** locked_vm pages with their size in bytes */
export function pages(n: number, pageSize = 65536): string {
  return `${n.toLocaleString('en-US')} (${bytes(BigInt(n) * BigInt(pageSize))})`;
}

/** bus range of a window: "0x0800000000000000 – 0x08000000ffffffff" */
export function busRange(startAddr: string, size: string): string {
  const s = BigInt(startAddr);
  const e = s + BigInt(size) - 1n;
  return `0x${s.toString(16)}–0x${e.toString(16)}`;
}

export function pageSizeLabel(pageShift: number): string {
  return bytes(1n << BigInt(pageShift));
}

/** a short number: 16777216 → "16.8M" */
export function shortCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
