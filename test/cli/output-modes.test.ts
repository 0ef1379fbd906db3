/**
 * Output a user can live with at a million events (issue 8): --quiet (failures with their why, and the
 * summary), --jsonl (JSON lines as the run goes), and --json written in pieces that join to exactly the
 * one document scenario-api.md §4 describes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, USAGE, type RunArgs } from '../../cli/args.ts';
import { main, runCommand } from '../../cli/main.ts';
import { eventLine, runDocument, writeRunDocument } from '../../cli/output.ts';
import { runScenario } from '../../runner/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a run with successful calls, two failed calls (one expected, one not), a failed expectation and a log */
const SCENARIO = [
  'const host = createHost();',
  'const G = host.addPhb().addGroup();',
  'const p = host.spawn({ name: "qemu", memlock: 16n * GiB });',
  'const R = p.mmap({ size: 1n * GiB, at: 0x7fff00000000n });',
  'const C = p.openContainer();',
  'expectOk(p.openGroup(G).setContainer(C), "attach");',
  'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), "v2");',
  'expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }), "register");',
  'for (let i = 0; i < 50; i++) C.mapDma({ vaddr: R + BigInt(i) * 0x10000n, iova: BigInt(i) * 0x10000n, size: 0x10000n });',
  'C.mapDma({ vaddr: R, iova: 1n << 40n, size: 0x10000n }); // outside every window: EINVAL, no expectation',
  'expectOk(C.unregisterMemory({ vaddr: R, size: 1n * GiB }), "unregister while mapped");',
  'log("done");',
].join('\n');
const FILE = join(dir, 'modes.ts');
writeFileSync(FILE, SCENARIO);

const args = (extra: Partial<RunArgs>): RunArgs => ({
  file: FILE,
  kernel: '4.2',
  json: false,
  jsonl: false,
  quiet: false,
  snapshot: undefined,
  report: undefined,
  timeoutSeconds: undefined,
  ...extra,
});

async function run(a: RunArgs): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCommand(a, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

describe('--quiet', () => {
  it('prints the failed calls and failed expectations with their why, then the counts and the summary', async () => {
    const full = await run(args({}));
    const quiet = await run(args({ quiet: true }));
    expect(quiet.code).toBe(1);
    expect(quiet.code).toBe(full.code);
    const r = await runScenario({ source: SCENARIO, filename: FILE, kernel: '4.2' });
    const failures = r.events.filter(
      (e) => (e.kind === 'ioctl' && e.ret < 0) || (e.kind === 'expect' && !e.ok),
    );
    expect(failures.map((e) => e.kind)).toEqual(['ioctl', 'ioctl', 'expect']);
    const lines = quiet.out.split('\n');
    // exactly the failures' log lines, in order, each call with its why line
    const expected = failures.map(eventLine).join('\n').split('\n');
    expect(lines.slice(0, expected.length)).toEqual(expected);
    expect(expected.filter((l) => l.includes('why: ')).length).toBe(2);
    expect(quiet.out).not.toContain('VFIO_IOMMU_MAP_DMA(vaddr=0x7fff00000000 iova=0x0 ');
    expect(quiet.out).not.toContain('log   done');
    expect(quiet.out).toContain(
      `events: ${r.events.length} recorded, ${r.events.filter((e) => e.kind === 'ioctl').length} ioctl calls, 2 returned an error`,
    );
    // the summary is the normal one
    const summary = full.out.slice(full.out.lastIndexOf('\nexpectations:'));
    expect(quiet.out.endsWith(summary)).toBe(true);
    expect(quiet.out.length).toBeLessThan(full.out.length / 3);
  });
});

describe('--jsonl', () => {
  it('one JSON object a line: a start line, every event as --json has it, an end line with the result', async () => {
    const doc = JSON.parse((await run(args({ json: true }))).out) as Record<string, unknown> & {
      events: unknown[];
    };
    const r = await run(args({ jsonl: true }));
    expect(r.code).toBe(1);
    expect(r.out.endsWith('\n')).toBe(true);
    const lines = r.out.trimEnd().split('\n');
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toEqual({ format: 'dmawb-run-start', version: 1, scenario: FILE, kernel: '4.2' });
    expect(objs.slice(1, -1)).toEqual(doc.events);
    expect(objs.at(-1)).toEqual({
      format: 'dmawb-run-end',
      version: 1,
      scenario: FILE,
      kernel: '4.2',
      ok: doc.ok,
      expectations: doc.expectations,
      events: doc.events.length,
      peakLockedVm: doc.peakLockedVm,
      error: null,
    });
  });

  it('a scenario that cannot complete still ends with an end line naming the error', async () => {
    const bad = join(dir, 'throws.ts');
    writeFileSync(bad, 'createHost();\nthrow new Error("stop here");\n');
    const r = await run(args({ file: bad, jsonl: true }));
    expect(r.code).toBe(2);
    const last = JSON.parse(r.out.trimEnd().split('\n').at(-1)!) as {
      format: string;
      error: { line: number };
    };
    expect(last.format).toBe('dmawb-run-end');
    expect(last.error.line).toBe(2);
  });
});

describe('--json written in pieces', () => {
  it('the pieces join to exactly JSON.stringify of the run document', async () => {
    const r = await runScenario({ source: SCENARIO, filename: FILE, kernel: '4.2' });
    const d = {
      scenario: FILE,
      kernel: '4.2',
      ok: r.ok,
      expectations: r.expectations,
      events: r.events,
      peakLockedVm: r.peakLockedVm,
      error: r.error,
    };
    const pieces: string[] = [];
    writeRunDocument(d, (s) => pieces.push(s));
    expect(pieces.length).toBeGreaterThan(r.events.length);
    expect(pieces.join('')).toBe(JSON.stringify(runDocument(d)) + '\n');
    // and with no events at all
    const empty: string[] = [];
    writeRunDocument(
      { ...d, events: [], error: { message: 'x', line: 1, column: null, kind: 'runtime' } as never },
      (s) => empty.push(s),
    );
    expect(empty.join('')).toBe(
      JSON.stringify(runDocument({ ...d, events: [], error: { message: 'x', line: 1, column: null } })) +
        '\n',
    );
  });

  it('the command prints that document', async () => {
    const r = await run(args({ json: true }));
    const doc = JSON.parse(r.out) as { format: string; events: { seq: number }[] };
    expect(doc.format).toBe('dmawb-run');
    expect(doc.events.map((e) => e.seq)).toEqual(doc.events.map((_, i) => i + 1));
  });
});

describe('arguments', () => {
  it('--json, --jsonl and --quiet exclude each other and --kernel both; the help documents them', async () => {
    expect(parseArgs(['run', 'x.ts', '--quiet'])).toMatchObject({
      kind: 'run',
      args: { quiet: true, jsonl: false, json: false },
    });
    expect(parseArgs(['run', 'x.ts', '--jsonl'])).toMatchObject({
      kind: 'run',
      args: { jsonl: true, quiet: false, json: false },
    });
    expect(parseArgs(['run', 'x.ts', '--jsonl', '--json'])).toEqual({
      kind: 'usage',
      message: '--json cannot be combined with --jsonl',
    });
    expect(parseArgs(['run', 'x.ts', '--quiet', '--quiet'])).toEqual({
      kind: 'usage',
      message: '--quiet given twice',
    });
    expect(parseArgs(['run', 'x.ts', '--quiet=1'])).toEqual({
      kind: 'usage',
      message: '--quiet takes no value',
    });
    expect(parseArgs(['run', 'x.ts', '--kernel', 'both', '--quiet'])).toEqual({
      kind: 'usage',
      message: '--kernel both cannot be combined with --quiet',
    });
    expect(parseArgs(['diff', 'a', 'b', '--jsonl'])).toEqual({
      kind: 'usage',
      message: "diff takes no options, got '--jsonl'",
    });
    expect(USAGE).toMatch(/--jsonl\s+stream JSON lines/);
    expect(USAGE).toMatch(/--quiet\s+print only failed calls/);
    let out = '';
    expect(await main(['--help'], { stdout: (s) => void (out += s), stderr: () => {} })).toBe(0);
    expect(out).toContain('--quiet');
  });

  it('through the real entry (the sandboxed worker): --quiet exits like the full log', async () => {
    let out = '';
    const code = await main(['run', FILE, '--kernel', '4.2', '--quiet'], {
      stdout: (s) => void (out += s),
      stderr: () => {},
    });
    expect(code).toBe(1);
    expect(out).toContain('expect FAIL  unregister while mapped');
    expect(out).toContain('result: failed');
  });
});
