/**
 * Cost of one guest→host call through the sandbox boundary (runner/), against trivial host methods.
 *
 *   npx tsx bench/runner-calls.ts [iterations]
 *
 * Each case runs a scenario loop of N iterations inside QuickJS; the host timestamps the loop with two
 * log() calls around it, so module load, compile and setup are not counted. Prints the median over
 * several repetitions, and the same loop with an empty body as the baseline. The last case runs the real
 * engine (v1 container, MAP_DMA over one slot) for the product budget: >= 100,000 ioctls per second.
 */
import type { RunEvent } from '../engine/events.ts';
import { executeScenario, type RunSession } from '../runner/execute.ts';
import { runScenario } from '../runner/run.ts';

const N = Number(process.argv[2] ?? 200_000);
const REPS = 7;

/** A session whose API objects do nothing: what is measured is the boundary. */
class TrivialSession implements RunSession {
  events: RunEvent[] = [];
  line: number | undefined;
  expectations = { passed: 0, failed: 0 };
  peakLockedVm = {};
  marks: number[] = [];
  lines = new Set<number | undefined>();
  createHost(): object {
    const result = { ret: 0, explain: 'mapped' };
    const tce = { value: 0x100000003n, hpa: 0x100000000n, perm: 3, ua: 0n };
    const lines = this.lines;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the stub's methods read the current line
    const self = this;
    const container = {
      mapDma(): unknown {
        lines.add(self.line);
        return result;
      },
      tce: () => tce,
    };
    const proc = { lockedVm: 0, openContainer: () => container };
    return { spawn: () => proc };
  }
  expect(): void {}
  log(): void {
    this.marks.push(performance.now());
  }
}

const SETUP = `const p = createHost().spawn();\nconst C = p.openContainer();\nconst R = 0x7fff00000000n;\n`;
const loop = (body: string) =>
  `${SETUP}log('start');\nfor (let i = 0; i < ${N}; i++) {\n  ${body}\n}\nlog('end');\n`;

async function perIteration(source: string, lineMarks = true): Promise<{ ns: number; lines: number }> {
  const samples: number[] = [];
  let lines = 0;
  for (let r = 0; r < REPS; r++) {
    const s = new TrivialSession();
    const res = await executeScenario(s, { source, filename: 'bench.ts', lineMarks });
    if (res.error) throw new Error(`bench scenario failed: ${res.error.message}`);
    samples.push(((s.marks[1]! - s.marks[0]!) * 1e6) / N);
    lines = s.lines.size;
  }
  samples.sort((a, b) => a - b);
  return { ns: samples[Math.floor(samples.length / 2)]!, lines };
}

const fmt = (ns: number) => `${ns.toFixed(0).padStart(6)} ns`;

console.log(`runner boundary, ${N} iterations per run, median of ${REPS} runs (Node ${process.version})`);
const base = await perIteration(loop(''));
console.log(`  ${'empty loop body'.padEnd(52)} ${fmt(base.ns)} per iteration (baseline)`);
const cases: [string, string, boolean][] = [
  [
    'C.mapDma({ vaddr: R, iova: 0n, size: 0x10000n })',
    'C.mapDma({ vaddr: R, iova: 0n, size: 0x10000n });',
    true,
  ],
  [
    '  the same, call-site lines from stack traces',
    'C.mapDma({ vaddr: R, iova: 0n, size: 0x10000n });',
    false,
  ],
  ['C.tce(0, i)        (inspection, JSON result)', 'C.tce(0, i);', true],
  ['p.lockedVm         (getter, number result)', 'p.lockedVm;', true],
];
for (const [label, body, lineMarks] of cases) {
  const r = await perIteration(loop(body), lineMarks);
  console.log(`  ${label.padEnd(52)} ${fmt(r.ns)} per iteration, ${fmt(r.ns - base.ns)} over the baseline`);
}

// the real engine: every call is an ioctl with its event, deltas and locked_vm accounting
const real = `
const host = createHost({ kernel: 'mainline' });
const G = host.addPhb().addGroup();
const p = host.spawn({ memlock: 16n * GiB });
const R = p.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const C = p.openContainer();
p.openGroup(G).setContainer(C);
C.setIommu(VFIO_SPAPR_TCE_IOMMU);
C.enable();
for (let i = 0; i < ${N}; i++) C.mapDma({ vaddr: R, iova: 0n, size: 0x10000n });
`;
const t0 = performance.now();
const r = await runScenario({ source: real, filename: 'real.ts', maxEvents: N + 100 });
const seconds = (performance.now() - t0) / 1000;
if (r.error) {
  console.log(`  real engine: the scenario failed: ${r.error.message}`);
  process.exit(1);
}
const ioctls = r.events.filter((e) => e.kind === 'ioctl').length;
console.log(
  `  real engine: ${ioctls} ioctls in ${seconds.toFixed(2)} s (whole run incl. setup) = ${Math.round(ioctls / seconds).toLocaleString('en-US')} ioctls/s`,
);

// baseline for the same work in the same process: the identical loop calling the engine directly, no sandbox
{
  const { Session } = await import('../engine/session.ts');
  const t1 = performance.now();
  const s = new Session({ kernel: 'mainline', maxEvents: N + 100 });
  const host = s.createHost({ kernel: 'mainline' });
  const G = host.addPhb().addGroup();
  const p = host.spawn({ memlock: 16n << 30n });
  const R = p.mmap({ size: 1n << 30n, at: 0x7fff00000000n });
  const C = p.openContainer();
  p.openGroup(G).setContainer(C);
  C.setIommu(2);
  C.enable();
  for (let i = 0; i < N; i++) C.mapDma({ vaddr: R, iova: 0n, size: 0x10000n });
  const direct = (performance.now() - t1) / 1000;
  console.log(
    `  baseline, the same loop calling the engine directly: ${Math.round(N / direct).toLocaleString('en-US')} ioctls/s`,
  );
  console.log(
    `  ratio sandboxed run / direct loop: ${(seconds / direct).toFixed(2)} (budget: at least 100,000 ioctls/s sandboxed)`,
  );
}
