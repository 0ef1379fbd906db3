/**
 * The renderer's JS heap after a large run (issue 8): a 1,000,000-call run against a 1,000-call run of
 * the same scenario, in real Chromium against browser mode, each in its own page, measured after a
 * garbage collection (CDP HeapProfiler.collectGarbage, then Runtime.getHeapUsage). Prints both, their
 * difference and the bytes an event that difference is. No budget: it is a before/after measurement.
 *
 * The server runs with a 20-minute run budget (DMAWB_RUN_TIMEOUT_MS): the default 30 s would end the run.
 * Run: node --import tsx bench/renderer/heap.ts [--calls N]   (npm run bench runs it with the others)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import {
  chromiumMissing,
  launchChromium,
  openApp,
  openFile,
  startServe,
  waitRunEnd,
  type Served,
} from '../../test/e2e/harness';

const argv = process.argv.slice(2);
const CALLS = Number(argv[argv.indexOf('--calls') + 1] || 1_000_000) || 1_000_000;

/** MAP/UNMAP pairs through a 4,096-entry ring of 64 KiB pages: `calls` calls */
function ring(calls: number): string {
  return `// bench: ${calls} calls
const host = createHost();
const G = host.addPhb().addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 4n * GiB });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const C = qemu.openContainer();
expectOk(qemu.openGroup(G).setContainer(C));
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));
expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }));
C.removeWindow({ startAddr: 0n });
C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 });
for (let i = 0; i < ${Math.floor(calls / 2)}; i++) {
  const s = i % 4096;
  C.mapDma({ vaddr: R + BigInt(s) * 0x10000n, iova: BigInt(s) * 0x10000n, size: 0x10000n });
  C.unmapDma({ iova: BigInt((i + 2048) % 4096) * 0x10000n, size: 0x10000n });
}
`;
}

async function heapAfterRun(
  browser: Browser,
  served: Served,
  file: string,
): Promise<{ used: number; events: number; ms: number }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  try {
    await openApp(page, served.url);
    await openFile(page, file);
    const t0 = Date.now();
    await page.click('[data-testid="run"]');
    await page.waitForFunction(() => window.dmawbUi!.state().status !== 'idle');
    const st = await waitRunEnd(page, 1_800_000);
    const ms = Date.now() - t0;
    if (st.status !== 'done') throw new Error(`${file}: the run ended ${String(st.status)}`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    return { used: usedSize, events: Number(st.rows), ms };
  } finally {
    await context.close();
  }
}

const missing = chromiumMissing();
if (missing) {
  console.log(`renderer heap: skipped (${missing})`);
  process.exit(0);
}
// a million calls take longer than a workbench run's default 30 s budget on a loaded machine
process.env['DMAWB_RUN_TIMEOUT_MS'] ??= String(1_200_000);
const served = await startServe();
const browser = await launchChromium();
try {
  writeFileSync(join(served.workspace, 'heap-small.ts'), ring(1000));
  writeFileSync(join(served.workspace, 'heap-large.ts'), ring(CALLS));
  const small = await heapAfterRun(browser, served, 'heap-small.ts');
  const large = await heapAfterRun(browser, served, 'heap-large.ts');
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const per = (large.used - small.used) / Math.max(1, large.events - small.events);
  console.log(`renderer heap after a ${small.events}-event run: ${mib(small.used)}`);
  console.log(
    `renderer heap after a ${large.events}-event run: ${mib(large.used)} (run ${(large.ms / 1000).toFixed(1)} s)`,
  );
  console.log(`renderer heap: +${mib(large.used - small.used)}, ${per.toFixed(1)} bytes an event`);
} finally {
  await browser.close();
  await served.stop();
}
