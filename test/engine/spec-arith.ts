/**
 * kernel-model.md arithmetic written out again from the text, independently of engine/pci-ioda-tce.ts, so
 * the engine tests can predict charges instead of reading them back from the engine.
 */
import type { KernelName } from '../../engine/api.ts';

const log2 = (x: bigint): number => x.toString(2).length - 1;
const isPow2 = (x: bigint): boolean => x > 0n && (x & (x - 1n)) === 0n;
const roundUp = (x: bigint, a: bigint): bigint => ((x + a - 1n) / a) * a;
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** §5.2 steps 2–3: log2 of the TCE count and the level size shift */
export function geometry(
  pageShift: number,
  windowSize: bigint,
  levels: number,
  systemPageShift: number,
): { E: number; levelShift: number } {
  const E = log2(windowSize) - pageShift;
  return { E, levelShift: Math.max(Math.ceil(E / levels) + 3, systemPageShift) };
}

/**
 * §5.2 get_table_size, steps 1–4: bytes of the hardware table (what 4.2 returns; mainline returns twice
 * this), or null where the kernel returns 0 (levels 0 or > 5, window not a power of two). The 4.2 host-RAM
 * limit is left to the caller.
 */
export function tableBytes(
  pageShift: number,
  windowSize: bigint,
  levels: number,
  systemPageShift: number,
): bigint | null {
  if (levels < 1 || levels > 5 || !isPow2(windowSize)) return null;
  const { E, levelShift } = geometry(pageShift, windowSize, levels, systemPageShift);
  const D = 1n << BigInt(levelShift);
  let T = max(4096n, 1n << BigInt(E + 3));
  let bytes = 0n;
  for (let i = 0; i < levels; i++) {
    bytes += roundUp(T, D);
    T = max((T / D) * 8n, D);
  }
  return bytes;
}

/** §4.10 step 8 / §8: the platform refuses (level_shift - 3) * levels + page_shift >= 60 (4.2) / 55 (mainline) */
export function platformRefuses(
  kernel: KernelName,
  pageShift: number,
  windowSize: bigint,
  levels: number,
  systemPageShift: number,
): boolean {
  const { levelShift } = geometry(pageShift, windowSize, levels, systemPageShift);
  return (levelShift - 3) * levels + pageShift >= (kernel === '4.2' ? 60 : 55);
}

/** §5.1 userspace view of a table: ALIGN_UP(8 * entries, PAGE_SIZE) >> PAGE_SHIFT */
export function viewPages(entries: bigint, systemPageShift: number): number {
  const page = 1n << BigInt(systemPageShift);
  return Number(roundUp(8n * entries, page) / page);
}

/** pages one window charges in total: 4.2 table (+ view for v2), mainline 2 x table */
export function windowCharge(
  kernel: KernelName,
  v2: boolean,
  pageShift: number,
  windowSize: bigint,
  levels: number,
  systemPageShift: number,
): number {
  const bytes = tableBytes(pageShift, windowSize, levels, systemPageShift);
  if (bytes === null) throw new Error('get_table_size would return 0');
  const table = Number(bytes >> BigInt(systemPageShift));
  if (kernel === 'mainline') return 2 * table;
  return table + (v2 ? viewPages(windowSize >> BigInt(pageShift), systemPageShift) : 0);
}
