/**
 * Imports the size of a busy guest's trace (issue 8 part 3): a long run of MAP/UNMAP is packed into the
 * compact form (interop/import/packed.ts), so the scenario stays far below the runner's 4 MiB limit, and
 * it still replays every recorded call with its capture line. The 1,000,000-line capture is in
 * `npm run bench` (bench/scale.ts); here a 30,000-call one (60,000 lines, fixed seed) passes, one refused
 * near its end diverges at that line, and the packing round-trips rows the ring does not produce.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { transform } from 'sucrase';
import { packRows, PACK_DIGITS, REPLAY_PACKED, type PackRow } from '../../interop/import/packed.ts';
import { busyGuestCapture } from '../support/busy-capture.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-import-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const CALLS = 30_000;

describe('dmawb import of a long trace', () => {
  it('packs the calls, stays small, and reproduces every recorded result (exit 0)', async () => {
    const cap = join(dir, 'busy.log');
    writeFileSync(cap, busyGuestCapture(CALLS).text);
    const out = join(dir, 'busy.ts');
    const imp = await cli('import', cap, '--memlock', String(8 * 2 ** 30), '--out', out);
    expect(imp.code, imp.err).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(
      /\/\/ 30000 recorded MAP_DMA \/ UNMAP_DMA calls, .*busy\.log lines 10–60008, packed/,
    );
    expect(text).toContain('function replayDmaPacked(');
    expect(text).not.toContain('replayDma("');
    // about 3.5 bytes a call: a million calls fit the 4 MiB limit
    expect(text.length).toBeLessThan(CALLS * 4 + 40_000);
    const run = await cli('run', out, '--quiet');
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toMatch(/expectations: 30006 passed, 0 failed/);
    expect(run.out).toMatch(/30,005 ioctl calls, 0 returned an error/);
  }, 120_000);

  it('a call the host refused near the end diverges there, naming its capture line', async () => {
    const c = busyGuestCapture(CALLS, { divergeAt: CALLS - 7 });
    expect(c.errorLine).not.toBeNull();
    const cap = join(dir, 'refused.log');
    writeFileSync(cap, c.text);
    const out = join(dir, 'refused.ts');
    expect((await cli('import', cap, '--memlock', String(8 * 2 ** 30), '--out', out)).code).toBe(0);
    const run = await cli('run', out); // the whole log: --quiet leaves out the divergence's log lines
    expect(run.code).toBe(1);
    // the notify line is the one before the error line: the call's capture line
    const at = `refused.log:${c.errorLine! - 1}`;
    expect(run.out).toMatch(
      new RegExp(
        `expect FAIL .*${at} MAP_DMA\\(iova 0x[0-9a-f]+, size 0x10000, (RW|READ)\\): expected -22 EINVAL, got 0`,
      ),
    );
    expect(run.out).toMatch(
      new RegExp(`DIVERGENCE at .*${at}: the host recorded -22 EINVAL; the emulated mainline kernel gives 0`),
    );
    expect(run.out).toMatch(/why: VFIO_IOMMU_MAP_DMA: 1 TCEs in window slot 0/);
    expect(run.out).toMatch(
      /replay stopped at the first divergence .*; \d+ later recorded call\(s\) not issued/,
    );
  }, 120_000);

  it('packs what the ring does not produce: line steps back, sizes, results, areas, absolute addresses', () => {
    const rows: PackRow[] = [
      { line: 9, iova: 0x1000n, size: 0x1000n, flags: 3, area: 0, off: 0x5000n, expected: '0' },
      { line: 12, iova: 0x2000n, size: 0x1000n, flags: 1, area: 0, off: 0x6000n, expected: '0' },
      { line: 11, iova: 0x1000n, size: 0x3000n, flags: 0, area: -1, off: 0n, expected: '"EINVAL"' },
      { line: 40, iova: 0x7ff000n, size: 0x1000n, flags: 3, area: 1, off: 0x0n, expected: '-5' },
      {
        line: 41,
        iova: 0x7fe000n,
        size: 0x1000n,
        flags: 3,
        area: -1,
        off: 0x7ffd40001000n,
        expected: '"EINVAL"',
      },
    ];
    const p = packRows(rows)!;
    expect(p.unit).toBe(0x1000n);
    expect(p.results).toEqual(['0', '"EINVAL"', '-5']);
    expect([...p.data].every((ch) => PACK_DIGITS.includes(ch))).toBe(true);
    // decoded by the scenario's decoder, with call() and C recording what would be issued
    const issued: string[] = [];
    expect(replay(p, [0n, 0x7ffd40000000n, 0x7ffe00000000n], issued)).toBe(rows.length);
    expect(issued).toEqual([
      'f:9 MAP_DMA(iova 0x1000, size 0x1000, RW) 0 vaddr 0x7ffd40005000',
      'f:12 MAP_DMA(iova 0x2000, size 0x1000, READ) 0 vaddr 0x7ffd40006000',
      'f:11 UNMAP_DMA(iova 0x1000, size 0x3000) EINVAL',
      'f:40 MAP_DMA(iova 0x7ff000, size 0x1000, RW) -5 vaddr 0x7ffe00000000',
      'f:41 MAP_DMA(iova 0x7fe000, size 0x1000, RW) EINVAL vaddr 0x7ffd40001000',
    ]);
  });

  it('leaves a value it cannot pack exactly to the readable table', () => {
    expect(
      packRows([{ line: 1, iova: 1n << 60n, size: 1n, flags: 3, area: -1, off: 3n, expected: '0' }]),
    ).toBeNull();
  });
});

/** runs the scenario's own decoder (REPLAY_PACKED, types stripped) with call() and C recording the calls */
function replay(
  p: { unit: bigint; results: string[]; data: string },
  areas: bigint[],
  issued: string[],
): number {
  const js = transform(REPLAY_PACKED, { transforms: ['typescript'] }).code;
  const C = {
    mapDma: (a: { vaddr: bigint; iova: bigint; size: bigint; flags: number }) =>
      `vaddr 0x${a.vaddr.toString(16)}`,
    unmapDma: () => '',
  };
  const call = (at: string, what: string, expected: unknown, issue: () => string): void => {
    const r = issue();
    issued.push(`${at} ${what} ${String(expected)}${r ? ` ${r}` : ''}`);
  };
  const fn = new Function('call', 'C', 'READ', `${js}\nreturn replayDmaPacked;`)(call, C, 1) as (
    ...a: unknown[]
  ) => void;
  // the results as the scenario's array literal evaluates them
  fn(
    'f',
    p.unit,
    areas,
    p.results.map((r) => JSON.parse(r) as unknown),
    p.data,
  );
  return issued.length;
}
