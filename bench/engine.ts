/**
 * Engine budget (product.md §Performance budgets): register, map, unmap and unregister 1 TiB of guest
 * RAM through a 64 KiB-page DDW window (16,777,216 TCEs) versus a plain typed-array loop writing the
 * same entries in the same process; and memory per mapped entry.
 *
 *   node --expose-gc --import tsx bench/engine.ts [--reps N]
 */
import { median, printTable, v2HostWithGuest } from './util.ts';

const TiB = 1n << 40n;
const PAGE = 0x10000;
const N = Number(TiB / BigInt(PAGE)); // 16,777,216 entries
const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 5;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** the baseline: one flat typed array per column, the same values the engine writes, then cleared */
function baseline(): { write: number; writeBoth: number; writeClear: number } {
  const tce = new Float64Array(N);
  const ua = new Float64Array(N);
  const hpa0 = 0x10000000;
  const ua0 = 0x7f0000000000;
  let t = performance.now();
  for (let i = 0; i < N; i++) tce[i] = hpa0 + i * PAGE + 3;
  const write = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < N; i++) ua[i] = ua0 + i * PAGE;
  const both = write + performance.now() - t;
  for (let i = 0; i < N; i++) tce[i] = 0;
  for (let i = 0; i < N; i++) ua[i] = 0;
  const rest = performance.now() - t;
  if (tce[N - 1] !== 0 || ua[7] !== 0) throw new Error('baseline optimised away');
  return { write, writeBoth: both, writeClear: write + rest };
}

function engine(): { total: number; map: number; unmap: number; bytesPerEntry: number } {
  const { C, R } = v2HostWithGuest(TiB); // the DDW window will take slot 0 at bus address 0
  gc();
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  const reg = C.registerMemory({ vaddr: R, size: TiB });
  const create = C.createWindow({ pageShift: 16, windowSize: TiB, levels: 2 });
  const t1 = performance.now();
  const map = C.mapDma({ vaddr: R, iova: 0n, size: TiB });
  const t2 = performance.now();
  const mem = process.memoryUsage().arrayBuffers - before;
  const unmap = C.unmapDma({ iova: 0n, size: TiB });
  const t3 = performance.now();
  const unreg = C.unregisterMemory({ vaddr: R, size: TiB });
  const t4 = performance.now();
  for (const r of [reg, create, map, unmap, unreg])
    if (r.ret !== 0) throw new Error(`engine bench: ${r.explain}`);
  return { total: t4 - t0, map: t2 - t1, unmap: t3 - t2, bytesPerEntry: mem / N };
}

const base: ReturnType<typeof baseline>[] = [];
const eng: ReturnType<typeof engine>[] = [];
for (let r = 0; r < reps; r++) {
  gc();
  base.push(baseline());
  gc();
  eng.push(engine());
}
const bW = median(base.map((b) => b.write));
const bWC = median(base.map((b) => b.writeClear));
const eT = median(eng.map((e) => e.total));
printTable('engine: 1 TiB through a 64 KiB DDW window (16,777,216 TCEs), medians of ' + reps, [
  ['baseline: typed-array loop writing the TCE values', `${bW.toFixed(1)} ms`],
  [
    'baseline: writing TCE values + user addresses (it_userspace)',
    `${median(base.map((b) => b.writeBoth)).toFixed(1)} ms`,
  ],
  ['baseline: writing TCE values + user addresses, then clearing both', `${bWC.toFixed(1)} ms`],
  ['engine: REGISTER + CREATE + MAP + UNMAP + UNREGISTER', `${eT.toFixed(1)} ms`],
  [
    '  of which MAP / UNMAP',
    `${median(eng.map((e) => e.map)).toFixed(1)} / ${median(eng.map((e) => e.unmap)).toFixed(1)} ms`,
  ],
  ['ratio engine / write-only baseline (budget ≤ 3)', (eT / bW).toFixed(2)],
  ['ratio engine / TCE+ua write baseline', (eT / median(base.map((b) => b.writeBoth))).toFixed(2)],
  ['ratio engine / write+clear baseline', (eT / bWC).toFixed(2)],
  ['memory per mapped entry (budget ≈ 24 B)', `${median(eng.map((e) => e.bytesPerEntry)).toFixed(1)} B`],
]);
