/**
 * Runs the size of a real trace (issue 8 part 3): a scenario of 1,000,000 MAP/UNMAP calls — a guest's
 * H_PUT_TCE traffic on a ring of 4,096 DMA buffers scattered over 1 GiB of pre-registered RAM — through
 *   - the engine alone (a Session driven by a plain loop, no sandbox): the baseline;
 *   - the engine worker's service (host/engine-service.ts, in process): run, then time travel to random
 *     steps (inspect.state) and a page of event rows (inspect.rows);
 *   - the command line (`dmawb run`, a child process) with its text, --quiet and --jsonl outputs;
 *   - the worker's exports of the whole run (report, snapshot, snapshot with events);
 *   - `dmawb import` of a constructed trace of CALLS lines (CALLS/2 MAP/UNMAP), and `dmawb run` of it.
 * Prints medians and bytes per recorded event (heap + array buffers held after a full GC, divided by the
 * events) against the engine alone measured in the same run.
 *
 *   node --expose-gc --import tsx bench/scale.ts [--calls N] [--reps N] [--no-cli] [--no-import]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from '../engine/session.ts';
import { EngineService } from '../host/engine-service.ts';
import { busyGuestCapture } from '../test/support/busy-capture.ts';
import { median, printTable } from './util.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('--calls', 1_000_000);
const REPS = arg('--reps', 3);
const RING = 4096;
const gcFn = (globalThis as { gc?: () => void }).gc;
if (!gcFn) throw new Error('run with --expose-gc (npm run bench does)');
const gc = gcFn;

/** heap plus array buffers after a full collection */
function held(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** the scenario: setup, then CALLS/2 iterations of one MAP and one UNMAP (slot order scrambled) */
const scenario = `
const host = createHost({ kernel: 'mainline' });
const G = host.addPhb().addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 4n * GiB });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const C = qemu.openContainer();
qemu.openGroup(G).setContainer(C);
C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
C.registerMemory({ vaddr: R, size: 1n * GiB });
C.removeWindow({ startAddr: 0n });
C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 });
const RING = ${RING};
for (let i = 0; i < ${CALLS / 2}; i++) {
  const s = i % RING;
  const page = BigInt((s * 7919 + (i >> 12) * 31) % 16384);
  C.mapDma({ vaddr: R + page * 0x10000n, iova: BigInt(s) * 0x10000n, size: 0x10000n });
  const old = BigInt((i + RING / 2) % RING);
  C.unmapDma({ iova: old * 0x10000n, size: 0x10000n });
}
`;

/** the same calls against the engine directly, keeping the session (and its event log) alive */
function engineAlone(): { ms: number; events: number; bytes: number; session: Session } {
  const before = held();
  const t0 = performance.now();
  const s = new Session({ kernel: 'mainline', maxEvents: CALLS * 2 });
  const host = s.createHost({ kernel: 'mainline' });
  const G = host.addPhb().addGroup();
  const q = host.spawn({ name: 'qemu', memlock: 4n << 30n });
  const R = q.mmap({ size: 1n << 30n, at: 0x7fff00000000n });
  const C = q.openContainer();
  q.openGroup(G).setContainer(C);
  C.setIommu(7);
  C.registerMemory({ vaddr: R, size: 1n << 30n });
  C.removeWindow({ startAddr: 0n });
  C.createWindow({ pageShift: 16, windowSize: 1n << 30n, levels: 1 });
  for (let i = 0; i < CALLS / 2; i++) {
    const sl = i % RING;
    const page = BigInt((sl * 7919 + (i >> 12) * 31) % 16384);
    C.mapDma({ vaddr: R + page * 0x10000n, iova: BigInt(sl) * 0x10000n, size: 0x10000n });
    C.unmapDma({ iova: BigInt((i + RING / 2) % RING) * 0x10000n, size: 0x10000n });
  }
  const ms = performance.now() - t0;
  return { ms, events: s.events.length, bytes: held() - before, session: s };
}

let travelSteps = 0;
let lastExports: Record<string, { ms: number; grewMb: number; note: string }> = {};
let checkpoints = 0;

async function worker(): Promise<{
  ms: number;
  events: number;
  bytes: number;
  travel: number[];
  rows: number[];
  ok: boolean;
  error: string | null;
}> {
  const before = held();
  let done: ((v: { ok: boolean; events: number; error: string | null }) => void) | null = null;
  const finished = new Promise<{ ok: boolean; events: number; error: string | null }>((r) => (done = r));
  const service = new EngineService({
    emit: (event, payload) => {
      if (event === 'run.done') {
        const p = payload as { ok: boolean; events: number; error: { message: string } | null };
        done!({ ok: p.ok, events: p.events, error: p.error?.message ?? null });
      }
    },
    timeoutMs: 3_600_000,
    maxEvents: CALLS * 2,
  });
  const t0 = performance.now();
  const { source } = await service.handle('run.start', {
    source: scenario,
    filename: 'scale.ts',
    kernel: 'mainline',
  });
  const r = await finished;
  const ms = performance.now() - t0;
  const bytes = held() - before;
  // time travel: the state after random steps (a fixed seed), the last step, and the steps just before
  // a checkpoint (the farthest from one: the worst case), each a fresh fold (cache-missing)
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return 1 + (seed % n);
  };
  const src = service.sources.get(source);
  const cps = src.kind === 'run' ? src.timeline.checkpointSteps() : [];
  const steps = [r.events, r.events - 1];
  for (let k = 0; k < 10 && cps.length > 2; k++) steps.push(cps[1 + (rnd(cps.length - 1) - 1)]! - 1);
  for (let k = 0; k < 21; k++) steps.push(rnd(r.events));
  const travel: number[] = [];
  const rows: number[] = [];
  for (const seq of steps) {
    let t = performance.now();
    const st = await service.handle('inspect.state', { source, seq });
    travel.push(performance.now() - t);
    if (st.seq !== seq) throw new Error(`time travel to ${seq} returned the state after ${st.seq}`);
    t = performance.now();
    await service.handle('inspect.rows', { source, from: seq - 1, count: 200 });
    rows.push(performance.now() - t);
  }
  travelSteps = steps.length;
  checkpoints = cps.length;
  // exports of the whole run: time, and how much the resident set grew while each ran (no collection in
  // between, so what it allocated shows); the snapshot with events is refused (larger than 64 MiB)
  const exportsOf: Record<string, { ms: number; grewMb: number; note: string }> = {};
  for (const [name, call] of [
    ['report', () => service.handle('export.report', { source, seq: r.events })],
    ['snapshot', () => service.handle('export.snapshot', { source, seq: r.events, includeEvents: false })],
    [
      'snapshot with events',
      () => service.handle('export.snapshot', { source, seq: r.events, includeEvents: true }),
    ],
  ] as [string, () => Promise<{ text: string }>][]) {
    gc();
    const rss0 = process.memoryUsage().rss;
    const t = performance.now();
    let note: string;
    try {
      note = `${((await call()).text.length / 1e6).toFixed(1)} MB`;
    } catch (e) {
      note = `refused: ${(e as Error).message.slice(0, 60)}…`;
    }
    exportsOf[name] = {
      ms: performance.now() - t,
      grewMb: (process.memoryUsage().rss - rss0) / 2 ** 20,
      note,
    };
  }
  lastExports = exportsOf;
  return { ms, events: r.events, bytes, travel, rows, ok: r.ok, error: r.error };
}

function cli(file: string, flags: string[]): { ms: number; maxRssKb: number | null; code: number | null } {
  return dmawb(['run', file, '--timeout', '3600', ...flags]);
}

function dmawb(argv: string[]): { ms: number; maxRssKb: number | null; code: number | null } {
  const flags = argv;
  const bin = fileURLToPath(new URL('../bin/dmawb.mjs', import.meta.url));
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const ms = performance.now() - t0;
  const lines = r.stderr.trim().split('\n');
  const last = lines.pop() ?? '';
  if (r.status !== 0 && r.status !== 1)
    console.log(`  dmawb ${flags.join(' ')} exited ${r.status}: ${lines.slice(-3).join(' | ')}`);
  return { ms, maxRssKb: /^\d+$/.test(last) ? Number(last) : null, code: r.status };
}

const fmtMs = (x: number): string => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
console.log(
  `\nlarge runs: ${CALLS.toLocaleString('en-US')} MAP/UNMAP calls, median of ${REPS} (Node ${process.version})`,
);

const alone: { ms: number; bpe: number; events: number }[] = [];
for (let i = 0; i < REPS; i++) {
  const a = engineAlone();
  alone.push({ ms: a.ms, bpe: a.bytes / a.events, events: a.events });
}
const aloneMs = median(alone.map((a) => a.ms));
const aloneBpe = median(alone.map((a) => a.bpe));

const ws: Awaited<ReturnType<typeof worker>>[] = [];
for (let i = 0; i < REPS; i++) ws.push(await worker());
if (!ws[0]!.ok) console.log(`  worker run did not pass: ${ws[0]!.error}`);
const wMs = median(ws.map((w) => w.ms));
const wBpe = median(ws.map((w) => w.bytes / Math.max(1, w.events)));
const travel = ws.flatMap((w) => w.travel);
const rowsMs = ws.flatMap((w) => w.rows);

const rows: [string, string][] = [
  [
    'engine alone (baseline)',
    `${fmtMs(aloneMs)}, ${alone[0]!.events.toLocaleString('en-US')} events, ${aloneBpe.toFixed(0)} bytes/event held`,
  ],
  [
    'worker service: run',
    `${fmtMs(wMs)} (${(wMs / aloneMs).toFixed(2)}× the engine alone), ${ws[0]!.events.toLocaleString('en-US')} events, ${wBpe.toFixed(0)} bytes/event held (${(wBpe / aloneBpe).toFixed(2)}× the engine alone; budget 200)`,
  ],
  [
    'worker service: time travel',
    `median ${fmtMs(median(travel))}, max ${fmtMs(Math.max(...travel))} over ${travel.length} steps (${REPS} × ${travelSteps}: the last, 10 just before a checkpoint, 21 random; ${checkpoints} checkpoints) (budget 200 ms)`,
  ],
  ['worker service: 200 event rows', `median ${fmtMs(median(rowsMs))}, max ${fmtMs(Math.max(...rowsMs))}`],
];

for (const [name, x] of Object.entries(lastExports))
  rows.push([
    `worker service: export ${name}`,
    `${fmtMs(x.ms)}, resident set grew ${x.grewMb.toFixed(0)} MiB; ${x.note}`,
  ]);

if (!process.argv.includes('--no-cli')) {
  const dir = mkdtempSync(join(tmpdir(), 'dmawb-scale-'));
  try {
    const file = join(dir, 'scale.ts');
    writeFileSync(file, scenario);
    for (const [label, flags] of [
      ['cli: text log', []],
      ['cli: --quiet', ['--quiet']],
      ['cli: --jsonl', ['--jsonl']],
      ['cli: --json', ['--json']],
    ] as [string, string[]][]) {
      const rs = Array.from({ length: REPS }, () => cli(file, flags));
      const code = rs[0]!.code;
      const rss = rs.map((r) => r.maxRssKb).filter((x): x is number => x !== null);
      rows.push([
        label,
        code === 64
          ? 'not supported by this version (usage error)'
          : `${fmtMs(median(rs.map((r) => r.ms)))} wall (${(median(rs.map((r) => r.ms)) / aloneMs).toFixed(2)}× the engine alone), exit ${code}${rss.length ? `, peak RSS ${(median(rss) / 1024).toFixed(0)} MiB` : ''}`,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (!process.argv.includes('--no-import')) {
  // dmawb import of a constructed 1,000,000-line trace (500,000 MAP/UNMAP calls, a notify and an hcall
  // line each), then dmawb run of the scenario it writes
  const dir = mkdtempSync(join(tmpdir(), 'dmawb-scale-import-'));
  try {
    const IMPORT_CALLS = Math.max(1, Math.round(CALLS / 2));
    const cap = join(dir, 'busy.log');
    writeFileSync(cap, busyGuestCapture(IMPORT_CALLS).text);
    const out = join(dir, 'busy.ts');
    const imp = dmawb(['import', cap, '--memlock', String(8 * 2 ** 30), '--out', out]);
    const lines = IMPORT_CALLS * 2;
    rows.push([
      `import: ${lines.toLocaleString('en-US')}-line capture`,
      `${fmtMs(imp.ms)} wall, exit ${imp.code}, peak RSS ${imp.maxRssKb ? (imp.maxRssKb / 1024).toFixed(0) : '?'} MiB; capture ${(statSync(cap).size / 2 ** 20).toFixed(1)} MiB → scenario ${imp.code === 0 ? (statSync(out).size / 2 ** 20).toFixed(2) : '?'} MiB (limit 4 MiB)`,
    ]);
    if (imp.code === 0) {
      const run = dmawb(['run', out, '--quiet', '--timeout', '3600']);
      rows.push([
        `run of the imported scenario`,
        `${fmtMs(run.ms)} wall, exit ${run.code} (0: every recorded result reproduced), peak RSS ${run.maxRssKb ? (run.maxRssKb / 1024).toFixed(0) : '?'} MiB`,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
printTable('large runs (bench/scale.ts)', rows);
