/**
 * Issue 12 reproducers against the command line: every async failure and every budget overrun ends with
 * exit 2 and a message (never a pass, a V8 abort or the OOM killer), and `--timeout 1` ends even loops the
 * sandbox cannot interrupt (slow built-ins, long engine calls) within about two seconds of the scenario's
 * start, because the run is in a worker the CLI terminates (cli/sandboxed.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.ts';
import { main } from '../../cli/main.ts';
import { runSandboxed } from '../../cli/sandboxed.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-rel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** runs the CLI; keeps only the tail of stdout (some of these runs print hundreds of megabytes) */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  let out = '';
  let err = '';
  const t0 = performance.now();
  const code = await main(argv, {
    stdout: (s) => void (out = (out + s).slice(-20_000)),
    stderr: (s) => void (err += s),
  });
  return { code, out, err, ms: performance.now() - t0 };
}

describe('async failures: exit 2 with the message and the line', () => {
  it('an exception in an async function nobody awaits', async () => {
    const f = file(
      'async-throw.ts',
      'async function main() {\n  await null;\n  throw new Error("boom");\n}\nvoid main();\n',
    );
    const r = await cli('run', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${f}:3:`);
    expect(r.err).toContain('unhandled promise rejection: Error: boom');
    expect(r.out).not.toContain('result: passed');
  });

  it('an unhandled Promise.reject, also in --json', async () => {
    const f = file('reject.ts', 'Promise.reject(new RangeError("nobody catches this"));\n');
    const r = await cli('run', f, '--json');
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out) as { ok: boolean; error: { message: string; line: number } };
    expect(doc.ok).toBe(false);
    expect(doc.error).toMatchObject({ line: 1 });
    expect(doc.error.message).toMatch(/unhandled promise rejection: RangeError: nobody catches this/);
  });

  it('`for (;;) await null` and a promise chain that never ends: the time budget', async () => {
    for (const src of [
      '(async () => {\n  for (;;) await null;\n})();\n',
      'function step(): Promise<void> { return Promise.resolve().then(step) }\nstep();\n',
    ]) {
      const r = await cli('run', file('endless.ts', src), '--timeout', '1');
      expect(r.code, src).toBe(2);
      expect(r.err, src).toMatch(/time budget exceeded: the scenario ran for more than 1 s/);
    }
  });

  it('a hostile toString is a scenario error at its line, not an internal error', async () => {
    const f = file('hostile.ts', 'const h = createHost();\nh.spawn({ name: { toString: 1 } as any });\n');
    const r = await cli('run', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${f}:2:`);
    expect(r.err).toMatch(/takes plain data/);
    expect(r.err).not.toMatch(/internal error/);
  });
});

describe('budgets hold', () => {
  it('--timeout 1 ends a loop of slow built-ins (it took 42 s before)', async () => {
    const r = await cli(
      'run',
      file('slow-builtin.ts', 'for (;;) String((1n << 60000n) - 1n);\n'),
      '--timeout',
      '1',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/time budget exceeded: the scenario ran for more than 1 s/);
    // budget 1 s + grace 1 s + starting the worker; a generous bound that still fails the old behaviour
    expect(r.ms).toBeLessThan(12_000);
  });

  it('size --timeout 1 ends a loop of slow built-ins from outside, as run does (the size runs are in the worker too)', async () => {
    const r = await cli(
      'size',
      file('slow-size.ts', 'for (;;) String((1n << 60000n) - 1n);\n'),
      '--timeout',
      '1',
      '--json',
    );
    expect(r.code).toBe(2);
    // only the watchdog of cli/sandboxed.ts says this: the sandbox could not stop it inside the built-in
    expect(r.err).toMatch(
      /time budget exceeded: the scenario ran for more than 1 s \(ended from outside the sandbox/,
    );
    expect(r.out).toBe('');
  });

  it('--timeout 1 ends a loop of long engine calls', async () => {
    const f = file(
      'long-calls.ts',
      [
        'const host = createHost({ ramSize: 2n * TiB });',
        'const G = host.addPhb({ model: "IODA2" }).addGroup();',
        'const q = host.spawn({ name: "qemu", memlock: 2n * TiB });',
        'const R = q.mmap({ size: 1n * TiB, at: 0x100000000000n });',
        'const C = q.openContainer();',
        'expectOk(q.openGroup(G).setContainer(C));',
        'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));',
        'expectOk(C.registerMemory({ vaddr: R, size: 1n * TiB }));',
        'expectOk(C.removeWindow({ startAddr: 0n }));',
        'expectOk(C.createWindow({ pageShift: 16, windowSize: 1n * TiB, levels: 2 }));',
        'for (;;) {',
        '  C.mapDma({ vaddr: R, size: 1n * TiB, iova: 0n });',
        '  C.unmapDma({ iova: 0n, size: 1n * TiB });',
        '}',
      ].join('\n'),
    );
    const r = await cli('run', f, '--timeout', '1', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false });
    expect(r.err).toMatch(/time budget exceeded: the scenario ran for more than 1 s/);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('a flood of log() ends with "memory budget exceeded"', async () => {
    const r = await cli('run', file('log-flood.ts', 'for (let i = 0; ; i++) log("x".repeat(10000) + i);\n'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/log-flood\.ts:1:\d+: memory budget exceeded: /);
  });

  it('a 40 MiB process name in a loop ends with "memory budget exceeded"', async () => {
    const f = file(
      'big-name.ts',
      'const h = createHost();\nconst big = "n".repeat(40 * 1024 * 1024);\nfor (;;) h.spawn({ name: big });\n',
    );
    const r = await cli('run', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/big-name\.ts:3:\d+: memory budget exceeded: /);
  });

  it('a 64 TiB map ends with "memory budget exceeded" (TCE tables are charged), not an OOM kill', async () => {
    const f = file(
      'map-64t.ts',
      [
        'const host = createHost({ ramSize: 128n * TiB });',
        'const G = host.addPhb({ model: "IODA2" }).addGroup();',
        'const q = host.spawn({ name: "qemu", memlock: 1n << 60n });',
        'const R = q.mmap({ size: 64n * TiB, at: 0x100000000000n });',
        'const C = q.openContainer();',
        'expectOk(q.openGroup(G).setContainer(C));',
        'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));',
        'expectOk(C.registerMemory({ vaddr: R, size: 64n * TiB }));',
        'expectOk(C.removeWindow({ startAddr: 0n }));',
        'expectOk(C.createWindow({ pageShift: 16, windowSize: 64n * TiB, levels: 2 }));',
        'C.mapDma({ vaddr: R, size: 64n * TiB, iova: 0n });',
      ].join('\n'),
    );
    const r = await cli('run', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /map-64t\.ts:11:\d+: memory budget exceeded: the TCE tables of this run need more than/,
    );
  });

  it('a run that exhausts the worker heap ends the worker with exit 2, not this process', async () => {
    const f = file(
      'heap.ts',
      'const h = createHost();\nconst pad = "p".repeat(9000);\nfor (let i = 0; ; i++) expectEq(i, i, pad + i);\n',
    );
    const parsed = parseArgs(['run', f]);
    if (parsed.kind !== 'run') throw new Error('usage');
    let out = '';
    let err = '';
    const code = await runSandboxed(
      parsed.args,
      { stdout: (s) => void (out = (out + s).slice(-5000)), stderr: (s) => void (err += s) },
      { heapMb: 128 },
    );
    expect(code).toBe(2);
    expect(err).toMatch(/memory budget exceeded: the run used more than its 128 MiB of host memory/);
    expect(out).toMatch(/could not complete \(memory\)/);
  });
});

describe('inputs read through a size guard', () => {
  it('/dev/zero as a scenario or a snapshot is refused, not read until memory runs out', async () => {
    const run = await cli('run', '/dev/zero');
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/cannot read scenario file '\/dev\/zero': zero is a device/);
    const diff = await cli('diff', '/dev/zero', '/dev/zero');
    expect(diff.code).toBe(2);
    expect(diff.err).toMatch(/cannot read snapshot file '\/dev\/zero': zero is a device/);
  });
});
