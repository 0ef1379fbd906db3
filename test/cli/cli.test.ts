/**
 * The command line (scenario-api.md §4), mostly through main(argv, io) in this process; one test runs the
 * real launcher (node bin/dmawb.mjs) to check the wiring end to end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.ts';
import { main } from '../../cli/main.ts';
import { jsonBigint } from '../../cli/output.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const PASSING = file(
  'pass.ts',
  [
    'const host = createHost();',
    'const G = host.addPhb().addGroup();',
    'const p = host.spawn({ name: "qemu", memlock: 16n * GiB });',
    'const R = p.mmap({ size: 1n * GiB, at: 0x7fff00000000n });',
    'const C = p.openContainer();',
    'expectOk(p.openGroup(G).setContainer(C), "attach");',
    'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), "v2");',
    'expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }), "register");',
    'const w = C.createWindow({ pageShift: 16, windowSize: 4n * GiB, levels: 1 });',
    'C.createWindow({ pageShift: 16, windowSize: 1n << 60n, levels: 4 }); // fails: no expectation',
    'log("window at", w.out?.startAddr);',
  ].join('\n'),
);
const FAILING = file(
  'fail.ts',
  'const C = createHost().spawn().openContainer();\nexpectOk(C.enable(), "enable before SET_IOMMU");\nexpectEq(1, 1, "fine");\n',
);
const THROWING = file(
  'throw.ts',
  'createHost();\nconst x: number = 1;\n  throw new Error("stop here " + x);\n',
);
const BROKEN = file('broken.ts', 'const a: number = ;\n');

describe('exit codes', () => {
  it('0: completed, every expectation passed; the log has one line per event and a summary', async () => {
    const r = await cli('run', PASSING);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(
      / L8 +pid 100 +VFIO_IOMMU_SPAPR_REGISTER_MEMORY\(argsz=24 flags=0 vaddr=0x7fff00000000 size=0x40000000\) = 0 +locked_vm 16384/,
    );
    expect(r.out).toMatch(/ L6 +expect ok +attach/);
    expect(r.out).toMatch(/ L11 +log +window at 0x800000000000000n/);
    expect(r.out).toContain('expectations: 3 passed, 0 failed');
    expect(r.out).toMatch(/peak locked_vm: pid 100: \d+ pages \(/);
    expect(r.out.trimEnd().endsWith('result: passed')).toBe(true);
  });

  it('1: completed, an expectation failed (with errno names in the log)', async () => {
    const r = await cli('run', FAILING);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VFIO_IOMMU_ENABLE\(\) = -22 EINVAL/);
    expect(r.out).toMatch(/expect FAIL +enable before SET_IOMMU: expected 0, got -22 EINVAL/);
    expect(r.out).toContain('expectations: 1 passed, 1 failed');
  });

  it('2: an exception, named by file, line and column', async () => {
    const r = await cli('run', THROWING);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`dmawb: ${THROWING}:3:18: Error: stop here 1\n`);
  });

  it('2: a compile error, named by file, line and column', async () => {
    const r = await cli('run', BROKEN);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`dmawb: ${BROKEN}:1:19: SyntaxError: Expression expected\n`);
  });

  it('2: the time budget (--timeout)', async () => {
    const r = await cli('run', file('spin.ts', 'for (;;) { Math.max(1, 2) }'), '--timeout', '0.3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/spin\.ts:1(:\d+)?: time budget exceeded: the scenario ran for more than 0\.3 s/);
  });

  it('2: the time budget names the line that was running, not the API call before it', async () => {
    // line 2 makes the last API call; lines 4-6 loop without one
    const src = 'const host = createHost();\nlog("start");\nlet n = 0;\nwhile (n >= 0) {\n  n++;\n}\n';
    const r = await cli('run', file('loop.ts', src), '--timeout', '0.3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^dmawb: \S*loop\.ts:4:1: time budget exceeded: the scenario ran for more than 0\.3 s \(stopped at line 4\)\n$/,
    );
    expect(r.out).toMatch(
      /result: could not complete \(timeout\) at \S*loop\.ts:4:1: .*\(stopped at line 4\)/,
    );
  });

  it('2: a missing or unreadable scenario file, named in the message', async () => {
    const missing = join(dir, 'nope.ts');
    const r = await cli('run', missing);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`dmawb: cannot read scenario file '${missing}': no such file or directory\n`);
    expect(r.out).toBe('');
    const d = await cli('run', dir);
    expect(d.code).toBe(2);
    expect(d.err).toContain('it is a directory');
  });

  it.each([
    [[], 'missing command (run, size or diff)'],
    [['go', 'x.ts'], "unknown command 'go'"],
    [['run'], 'missing scenario file'],
    [['run', 'a.ts', 'b.ts'], "unexpected argument 'b.ts'"],
    [['run', 'a.ts', '--fast'], "unknown option '--fast'"],
    [
      ['run', 'a.ts', '--kernel', '5.0'],
      "--kernel must be one of 4.2, 5.x, mainline, both or two of them as A,B, got '5.0'",
    ],
    [
      ['run', 'a.ts', '--kernel', '4.2,4.2'],
      '--kernel 4.2,4.2: a pair of profiles needs two different profiles, got 4.2 twice',
    ],
    [
      ['run', 'a.ts', '--kernel', '4.2,6.x'],
      '--kernel 4.2,6.x: a pair of profiles is two of 4.2, 5.x, mainline separated by a comma (e.g. 4.2,5.x), or both',
    ],
    [['run', 'a.ts', '--kernel'], '--kernel needs a value'],
    [['run', 'a.ts', '--snapshot', '--json'], '--snapshot needs a value'],
    [['run', 'a.ts', '--json', '--json'], '--json given twice'],
    [
      ['run', 'a.ts', '--timeout', '-1'],
      "--timeout must be a number of seconds between 0 and 86400, got '-1'",
    ],
    [
      ['run', 'a.ts', '--timeout', 'soon'],
      "--timeout must be a number of seconds between 0 and 86400, got 'soon'",
    ],
  ])('64: usage error %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(64);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe(`dmawb: ${message}`);
    expect(r.err).toContain('usage: dmawb run <scenario.ts>');
  });

  it('64: an output file that is the scenario itself (nothing is overwritten)', async () => {
    const before = readFileSync(PASSING, 'utf8');
    const r = await cli('run', PASSING, '--report', PASSING);
    expect(r.code).toBe(64);
    expect(readFileSync(PASSING, 'utf8')).toBe(before);
  });

  it('--help and --version', async () => {
    const h = await cli('--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('usage: dmawb run');
    expect((await cli('run', 'x.ts', '-h')).code).toBe(0);
    const v = await cli('--version');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^dmawb \d+\.\d+\.\d+\n$/);
  });

  it('accepts --flag=value and -- before a file name starting with a dash', () => {
    expect(parseArgs(['run', '--kernel=4.2', '--', '-odd.ts'])).toEqual({
      kind: 'run',
      args: {
        file: '-odd.ts',
        kernel: '4.2',
        json: false,
        jsonl: false,
        quiet: false,
        snapshot: undefined,
        report: undefined,
        timeoutSeconds: undefined,
      },
    });
  });
});

describe('--json', () => {
  it('prints exactly one JSON document of the documented shape', async () => {
    const r = await cli('run', PASSING, '--json', '--kernel', '4.2');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(Object.keys(doc)).toEqual([
      'format',
      'version',
      'scenario',
      'kernel',
      'ok',
      'expectations',
      'events',
      'peakLockedVm',
      'error',
    ]);
    expect(doc).toMatchObject({
      format: 'dmawb-run',
      version: 1,
      scenario: PASSING,
      kernel: '4.2',
      ok: true,
      expectations: { passed: 3, failed: 0 },
      error: null,
    });
    const setIommu = doc.events.find((e: { op?: string }) => e.op === 'VFIO_SET_IOMMU');
    expect(Object.keys(setIommu)).toEqual([
      'seq',
      'line',
      'pid',
      'kind',
      'op',
      'args',
      'ret',
      'errno',
      'lockedVm',
      'explain',
      // additions of issue 7 (after the documented fields): the deciding kernel function and its reference
      'cite',
      'doc',
    ]);
    expect(setIommu).toMatchObject({
      line: 7,
      pid: 100,
      kind: 'ioctl',
      args: { type: 7 },
      ret: 0,
      errno: null,
    });
    const reg = doc.events.find((e: { op?: string }) => e.op === 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY');
    expect(reg.args).toEqual({ argsz: 24, flags: 0, vaddr: '0x7fff00000000', size: 1073741824 });
    const [create, big] = doc.events.filter((e: { op?: string }) => e.op === 'VFIO_IOMMU_SPAPR_TCE_CREATE');
    expect(create.args.windowSize).toBe(4294967296);
    expect(create.out.startAddr).toBe('0x800000000000000');
    expect(big.args.windowSize).toBe('1152921504606846976'); // a size above 2^53: decimal string
    expect(big.ret).toBeLessThan(0);
    expect(typeof big.errno).toBe('string');
    const exp = doc.events.find((e: { kind: string }) => e.kind === 'expect');
    expect(Object.keys(exp)).toEqual(['seq', 'line', 'kind', 'ok', 'label', 'actual', 'expected']);
    expect(doc.peakLockedVm['100']).toBeGreaterThan(0);
  });

  it('reports an error as { message, line, column } and exit 2, still one document', async () => {
    const r = await cli('run', THROWING, '--json');
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out);
    expect(doc.ok).toBe(false);
    expect(doc.error).toEqual({ message: 'Error: stop here 1', line: 3, column: 18 });
  });

  it('a missing file still gives one document with the error', async () => {
    const r = await cli('run', join(dir, 'gone.ts'), '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toMatchObject({ line: null, column: null });
  });

  it('bigints: addresses in hex, sizes as numbers or decimal strings above 2^53', () => {
    expect(jsonBigint('vaddr', 0x800000000000000n)).toBe('0x800000000000000');
    expect(jsonBigint('pgsizes', 0x1011000n)).toBe('0x1011000');
    expect(jsonBigint('size', 4096n)).toBe(4096);
    expect(jsonBigint('windowSize', 1n << 60n)).toBe('1152921504606846976');
    expect(jsonBigint('memlock', 1n << 34n)).toBe(17179869184);
  });
});

describe('--snapshot and --report', () => {
  it('are written (atomically, no temp files left) when the run completes', async () => {
    const out = mkdtempSync(join(dir, 'out-'));
    const snap = join(out, 'final.json');
    const report = join(out, 'run.md');
    const r = await cli('run', FAILING, '--snapshot', snap, '--report', report);
    expect(r.code).toBe(1); // completed, with a failed expectation: outputs are still written
    const doc = JSON.parse(readFileSync(snap, 'utf8'));
    expect(doc).toMatchObject({ format: 'dmawb-snapshot', version: 2, kernel: 'mainline' });
    expect(doc.state.processes[0].pid).toBe(100);
    expect(readFileSync(report, 'utf8')).toMatch(/^# DMA Workbench report: /);
    expect(readdirSync(out).sort()).toEqual(['final.json', 'run.md']);
  });

  it('are not written at all when the scenario cannot complete', async () => {
    const out = mkdtempSync(join(dir, 'none-'));
    for (const scenario of [THROWING, BROKEN, join(dir, 'missing.ts')]) {
      const r = await cli('run', scenario, '--snapshot', join(out, 's.json'), '--report', join(out, 'r.md'));
      expect(r.code).toBe(2);
    }
    expect(readdirSync(out)).toEqual([]);
  });

  it('a previous file is kept when the new run cannot complete', async () => {
    const snap = file('keep.json', '{"old":true}');
    await cli('run', THROWING, '--snapshot', snap);
    expect(readFileSync(snap, 'utf8')).toBe('{"old":true}');
  });

  it('an unwritable output directory is exit 2 with a message', async () => {
    const r = await cli('run', PASSING, '--snapshot', join(dir, 'no-such-dir', 's.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^dmawb: cannot write output: /);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });
});

describe('--snapshot-at <seq>', () => {
  const at = async (name: string, ...more: string[]) => {
    const out = join(dir, name);
    const r = await cli('run', PASSING, '--snapshot', out, ...more);
    return { r, out };
  };

  it('writes the state after that event; at the last event it is the final snapshot, byte for byte', async () => {
    const final = await at('at-final.json');
    const events = JSON.parse((await cli('run', PASSING, '--json')).out).events.length as number;
    const last = await at('at-last.json', '--snapshot-at', String(events));
    expect(last.r.code).toBe(final.r.code);
    // the run's log folded to its end is the live state the plain --snapshot captures
    expect(readFileSync(last.out, 'utf8')).toBe(readFileSync(final.out, 'utf8'));
    const early = await at('at-3.json', '--snapshot-at', '3');
    const doc = JSON.parse(readFileSync(early.out, 'utf8'));
    expect(doc).toMatchObject({ format: 'dmawb-snapshot', seq: 3 });
    // the recipe of the README: what changed from event 3 to the end
    const d = await cli('diff', early.out, final.out);
    expect(d.code).toBe(1);
    expect(d.out).toMatch(/after seq 3\)\n\+\+\+ .*after seq \d+\)/);
  });

  it("64: past the end of the run, with the run's range, and nothing written (not even --report)", async () => {
    const out = mkdtempSync(join(dir, 'at-none-'));
    const r = await cli(
      'run',
      PASSING,
      '--snapshot',
      join(out, 's.json'),
      '--snapshot-at',
      '100000',
      '--report',
      join(out, 'r.md'),
    );
    expect(r.code).toBe(64);
    expect(r.err).toMatch(
      /^dmawb: --snapshot-at 100000 is past the end of the run: its events are seq 1 to \d+; nothing was written\n$/,
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    [['--snapshot-at', '0'], "--snapshot-at must be an event seq (a whole number from 1), got '0'"],
    [['--snapshot-at', '1.5'], "--snapshot-at must be an event seq (a whole number from 1), got '1.5'"],
    [['--snapshot-at=-2'], "--snapshot-at must be an event seq (a whole number from 1), got '-2'"],
    [['--snapshot-at', 'x'], "--snapshot-at must be an event seq (a whole number from 1), got 'x'"],
    [['--snapshot-at', '1e3'], "--snapshot-at must be an event seq (a whole number from 1), got '1e3'"],
  ])('64 before running: %j', async (flags, message) => {
    const out = mkdtempSync(join(dir, 'at-bad-'));
    const r = await cli('run', PASSING, '--snapshot', join(out, 's.json'), ...flags);
    expect(r.code).toBe(64);
    expect(r.err.split('\n')[0]).toBe(`dmawb: ${message}`);
    expect(r.out).toBe(''); // nothing ran
    expect(readdirSync(out)).toEqual([]);
  });

  it('64: without --snapshot, and as an option of size', async () => {
    const r = await cli('run', PASSING, '--snapshot-at', '3');
    expect(r.code).toBe(64);
    expect(r.err.split('\n')[0]).toBe('dmawb: --snapshot-at needs --snapshot <file> (where to write it)');
    const s = await cli('size', PASSING, '--snapshot-at', '3');
    expect(s.code).toBe(64);
    expect(s.err.split('\n')[0]).toBe('dmawb: size takes no --snapshot-at option');
    expect((await cli('--help')).out).toContain('--snapshot-at <seq>');
  });
});

describe('the launcher', () => {
  it('node bin/dmawb.mjs runs the CLI and sets the exit code (one real process)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const p = spawnSync(process.execPath, [join(root, 'bin', 'dmawb.mjs'), 'run', FAILING, '--json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(p.status).toBe(1);
    expect(JSON.parse(p.stdout)).toMatchObject({
      format: 'dmawb-run',
      ok: false,
      expectations: { passed: 1, failed: 1 },
    });
  });
});

describe('diff <a> <b>', () => {
  const MEMLOCK = fileURLToPath(new URL('../../examples/memlock-default-64k.ts', import.meta.url));
  const snap = async (name: string, kernel: '4.2' | 'mainline', scenario = PASSING) => {
    const out = join(dir, name);
    expect((await cli('run', scenario, '--kernel', kernel, '--snapshot', out)).code).toBeLessThan(2);
    return out;
  };

  it('0: no differences between two snapshots of the same state', async () => {
    const a = await snap('same-a.json', 'mainline');
    const b = await snap('same-b.json', 'mainline');
    const r = await cli('diff', a, b);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(
      /^no differences: .*same-a\.json \(.*pass\.ts · mainline · after seq \d+\) and .*same-b\.json/,
    );
  });

  it('1: prints what changed from a to b', async () => {
    const a = await snap('ml.json', 'mainline', MEMLOCK);
    const b = await snap('old.json', '4.2', MEMLOCK);
    const r = await cli('diff', a, b);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^--- .*ml\.json \(.*memlock-default-64k\.ts · mainline · after seq \d+\)$/);
    expect(lines[1]).toMatch(/^\+\+\+ .*old\.json \(.*memlock-default-64k\.ts · 4\.2 · after seq \d+\)$/);
    expect(lines).toContain(
      '~ process 100 (qemu-system-ppc64) locked_vm 0 → 100 (qemu-system-ppc64) locked_vm 0',
    );
    expect(lines).toContain('    memlock: 0x100500000 → 0x100800000');
  });

  it("2: a bad or missing file, with parseSnapshot's message", async () => {
    const good = await snap('good.json', 'mainline');
    const bad = file('bad.json', '{"format":"dmawb-snapshot","version":1');
    const r = await cli('diff', good, bad);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      new RegExp(
        `^dmawb: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: snapshot: not valid JSON .*the file may be truncated\\n$`,
      ),
    );
    const wrong = file('wrong.json', '{"format":"other"}');
    expect((await cli('diff', wrong, good)).err).toContain(
      'snapshot: format is "other", expected "dmawb-snapshot"',
    );
    const missing = join(dir, 'nope.json');
    const m = await cli('diff', good, missing);
    expect(m.code).toBe(2);
    expect(m.err).toBe(`dmawb: cannot read snapshot file '${missing}': no such file or directory\n`);
  });

  it.each([
    [['diff'], 'missing snapshot files to compare'],
    [['diff', 'a.json'], 'missing the second snapshot file'],
    [['diff', 'a.json', 'b.json', 'c.json'], "unexpected argument 'c.json'"],
    [['diff', 'a.json', 'b.json', '--json'], "diff takes no options, got '--json'"],
    [['diff', 'a.json', 'b.json', '--kernel', '4.2'], "diff takes no options, got '--kernel'"],
  ])('64: usage error %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(64);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe(`dmawb: ${message}`);
  });

  it('is in --help', async () => {
    const h = await cli('--help');
    expect(h.out).toContain('dmawb diff <a.snapshot.json> <b.snapshot.json>');
    expect(h.out).toContain(
      'diff:       0 no differences; 1 differences; 2 a file cannot be read or is not a valid snapshot; 64 usage error',
    );
  });
});

describe('run <file> --kernel both', () => {
  const MEMLOCK = fileURLToPath(new URL('../../examples/memlock-default-64k.ts', import.meta.url));

  it('prints both runs and where their ioctl calls diverge', async () => {
    const r = await cli('run', MEMLOCK, '--kernel', 'both');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^4\.2 +13 ioctls, 3 failed; expectations 19 passed, 0 failed; peak locked_vm pid 100 65664$/,
    );
    expect(lines[1]).toMatch(/^mainline 17 ioctls, 2 failed; .*peak locked_vm pid 100 65616$/);
    expect(lines[2]).toBe(
      '11 of 18 aligned rows differ (12 paired, 1 only in 4.2, 5 only in mainline); first divergence at row #2',
    );
    expect(lines.slice(3, 10)).toEqual([
      '#2 (first divergence) differs in result',
      '  4.2       VFIO_SET_IOMMU(type=7) = -12 ENOMEM  locked_vm 0  L52',
      '  mainline  VFIO_SET_IOMMU(type=7) = 0  locked_vm 0  L52',
      '#3 only in 4.2',
      '  4.2       VFIO_SET_IOMMU(type=2) = -12 ENOMEM  locked_vm 0  L54',
      '#4 only in mainline',
      '  mainline  VFIO_IOMMU_SPAPR_REGISTER_MEMORY(argsz=24 flags=0 vaddr=0x7fff00000000 size=0x100000000) = -12 ENOMEM  locked_vm 0  L58',
    ]);
  });

  it('--kernel A,B compares any two of the three profiles, oldest first', async () => {
    const r = await cli('run', MEMLOCK, '--kernel', 'mainline,5.x');
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^5\.x +\d+ ioctls/);
    expect(lines[1]).toMatch(/^mainline +\d+ ioctls/);
    expect(r.out).not.toMatch(/^4\.2 /m);
  });

  it('exits with the worse of the two codes, and names each failing run', async () => {
    const fails42 = file(
      'fails-42.ts',
      'const host = createHost();\nexpectEq(host.kernel, "mainline", "kernel");\n',
    );
    expect((await cli('run', fails42, '--kernel', 'both')).code).toBe(1);
    const r = await cli('run', THROWING, '--kernel', 'both');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`dmawb: 4.2: ${THROWING}:3:`);
    expect(r.err).toContain(`dmawb: mainline: ${THROWING}:3:`);
    expect(r.out).toContain('the two profiles agree on all 0 ioctl calls');
  });

  it.each(['--json', '--snapshot', '--report'])('64: cannot be combined with %s', async (flag) => {
    const r = await cli(
      'run',
      PASSING,
      '--kernel',
      'both',
      flag,
      ...(flag === '--json' ? [] : [join(dir, 'x.out')]),
    );
    expect(r.code).toBe(64);
    expect(r.err.split('\n')[0]).toBe(`dmawb: --kernel both cannot be combined with ${flag}`);
  });
});
