/**
 * The compact form of a long run of recorded MAP_DMA / UNMAP_DMA calls (issue 8: a busy guest's trace
 * holds a million of them, and the scenario must stay under the runner's 4 MiB limit). Each call is a
 * few characters of a string: a header character saying which fields differ from what the previous
 * calls predict, then only those fields, as base-32 variable-length numbers.
 *
 *   header (6 bits): 0–1 flags (0 UNMAP, 1 READ, 3 READ|WRITE) · 2 the capture line's step changed ·
 *                    3 the iova is not the previous call's of the same kind plus the size ·
 *                    4 the host address is not the previous MAP's plus the size · 5 an extension follows
 *   extension:       0 the size changed · 1 the recorded result is not 0 (an index into the results) ·
 *                    2 the host address is in another memory area (an index: 0 an absolute address)
 *   then, as flagged: line step (zigzag), size, result index, iova, area index, address offset
 *
 * Sizes, iovas and offsets are in units of the largest power of two (at most 64 KiB) dividing them all.
 * The scenario decodes it with replayDmaPacked() and issues every call with its capture file and line,
 * exactly like the table form (replayDma): one checked call per recorded line, the same labels, the same
 * divergence messages.
 */

/** one recorded call, as the importer reconstructs it */
export interface PackRow {
  line: number;
  iova: bigint;
  size: bigint;
  /** 0 UNMAP, 1 READ, 3 READ|WRITE */
  flags: 0 | 1 | 3;
  /** index of the memory area the host address is in (RAM0 → 0), -1 for an absolute address */
  area: number;
  /** the host address minus the area's start (the absolute address for area -1; 0n for UNMAP) */
  off: bigint;
  /** the recorded result as the scenario writes it: "0", "-5", "\"EINVAL\"" */
  expected: string;
}

/** 64 characters safe in a double-quoted string literal; a digit at or above 32 says more follow */
export const PACK_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/';

const MAX_UNIT = 1n << 16n;
const EXACT = 2 ** 53;

export interface Packed {
  unit: bigint;
  /** the recorded results the rows index (the first is 0), as the scenario writes them */
  results: string[];
  data: string;
}

/** the rows packed, or null when a value does not fit (the table form is used then) */
export function packRows(rows: readonly PackRow[]): Packed | null {
  let unit = MAX_UNIT;
  const fit = (v: bigint): void => {
    while (unit > 1n && v % unit !== 0n) unit >>= 1n;
  };
  for (const r of rows) {
    fit(r.iova);
    fit(r.size);
    if (r.flags !== 0) fit(r.off);
  }
  const results = ['0'];
  const resultIndex = new Map([['0', 0]]);
  let out = '';
  const num = (v: number): void => {
    while (v >= 32) {
      out += PACK_DIGITS[32 + (v % 32)];
      v = Math.floor(v / 32);
    }
    out += PACK_DIGITS[v];
  };
  const units = (v: bigint): number | null => {
    const u = v / unit;
    return v < 0n || u >= BigInt(EXACT) ? null : Number(u);
  };
  let line = 0;
  let step = 0;
  let size = 0;
  const next = [0, 0];
  let area = 0;
  let nextOff = 0;
  for (const r of rows) {
    const sizeU = units(r.size);
    const iovaU = units(r.iova);
    const offU = r.flags === 0 ? 0 : units(r.off);
    const d = r.line - line;
    if (sizeU === null || iovaU === null || offU === null || !Number.isSafeInteger(d)) return null;
    let h = r.flags;
    let ext = 0;
    if (d !== step) h |= 4;
    if (sizeU !== size) ext |= 1;
    let ri = 0;
    if (r.expected !== '0') {
      ext |= 2;
      ri = resultIndex.get(r.expected) ?? -1;
      if (ri < 0) {
        ri = results.push(r.expected) - 1;
        resultIndex.set(r.expected, ri);
      }
    }
    const kind = r.flags === 0 ? 0 : 1;
    if (iovaU !== next[kind]) h |= 8;
    const a = r.area + 1;
    if (kind === 1) {
      if (a !== area) ext |= 4;
      if (offU !== nextOff || a !== area) h |= 16;
    }
    if (ext) h |= 32;
    out += PACK_DIGITS[h];
    if (ext) out += PACK_DIGITS[ext];
    if (h & 4) num(d < 0 ? -2 * d - 1 : 2 * d);
    if (ext & 1) num(sizeU);
    if (ext & 2) num(ri);
    if (h & 8) num(iovaU);
    if (ext & 4) num(a);
    if (h & 16) num(offU);
    line = r.line;
    step = d;
    size = sizeU;
    next[kind] = iovaU + sizeU;
    if (kind === 1) {
      area = a;
      nextOff = offU + sizeU;
    }
  }
  return { unit, results, data: out };
}

/** the scenario's decoder (emitted once into a scenario that uses the packed form) */
export const REPLAY_PACKED = `
/** recorded MAP_DMA / UNMAP_DMA calls packed by dmawb import (see its header): decoded and issued in order */
function replayDmaPacked(file: string, unit: bigint, areas: bigint[], results: (number | string)[], data: string): void {
  const digits = ${JSON.stringify(PACK_DIGITS)};
  const value: number[] = [];
  for (let i = 0; i < 64; i++) value[digits.charCodeAt(i)] = i;
  let p = 0;
  const num = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const c = value[data.charCodeAt(p++)]!;
      if (c < 32) return v + c * mul;
      v += (c - 32) * mul;
      mul *= 32;
    }
  };
  let line = 0;
  let step = 0;
  let size = 0;
  const next = [0, 0];
  let area = 0;
  let off = 0;
  while (p < data.length) {
    const h = value[data.charCodeAt(p++)]!;
    const ext = h & 32 ? value[data.charCodeAt(p++)]! : 0;
    if (h & 4) {
      const z = num();
      step = z % 2 ? -(z + 1) / 2 : z / 2;
    }
    line += step;
    if (ext & 1) size = num();
    const ret = ext & 2 ? results[num()]! : 0;
    const flags = h & 3;
    const kind = flags === 0 ? 0 : 1;
    if (h & 8) next[kind] = num();
    const iova = BigInt(next[kind]!) * unit;
    const bytes = BigInt(size) * unit;
    next[kind] = next[kind]! + size;
    const span = \`iova 0x\${iova.toString(16)}, size 0x\${bytes.toString(16)}\`;
    if (kind === 0) {
      call(\`\${file}:\${line}\`, \`UNMAP_DMA(\${span})\`, ret, () => C.unmapDma({ iova, size: bytes }));
      continue;
    }
    if (ext & 4) area = num();
    if (h & 16) off = num();
    const vaddr = areas[area]! + BigInt(off) * unit;
    off += size;
    call(\`\${file}:\${line}\`, \`MAP_DMA(\${span}, \${flags === READ ? 'READ' : 'RW'})\`, ret, () => C.mapDma({ vaddr, iova, size: bytes, flags }));
  }
}`;
