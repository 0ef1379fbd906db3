/** `dmawb export-c` on the command line (scenario-api.md §4.3): exit codes 0 / 2 / 64 and atomic output. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.ts';
import { main } from '../../cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-export-c-cli-'));
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

const SCENARIO = file(
  'ok.ts',
  [
    'const host = createHost();',
    'const G = host.addPhb().addGroup();',
    'const p = host.spawn({ name: "qemu", memlock: 16n * GiB });',
    'const C = p.openContainer();',
    'expectOk(p.openGroup(G).setContainer(C), "attach");',
    'expectErrno(C.setIommu(1), "EINVAL", "type1 is not sPAPR");',
  ].join('\n'),
);

describe('dmawb export-c', () => {
  it('writes the program to --out and exits 0, even when an expectation failed', async () => {
    const out = join(dir, 'ok.c');
    const r = await cli('export-c', SCENARIO, '--kernel', '4.2', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/wrote .*ok\.c/);
    const c = readFileSync(out, 'utf8');
    expect(c).toContain('under the\n * 4.2 profile');
    expect(c).toContain('long r = xioctl_val(container_fd[1], VFIO_SET_IOMMU, 1);');
    // what the emulated host returned is checked, not what the scenario expected (its failed expectation
    // is a comment)
    expect(c).toMatch(/check_call\(\d+, r, -ENODEV, NULL, 0\);/);
    expect(c).toContain(
      'FAILED in the emulator: type1 is not sPAPR (actual -19 ENODEV, expected -22 EINVAL)',
    );
    // the temporary file of the atomic write is gone
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('prints the program on stdout without --out', async () => {
    const r = await cli('export-c', SCENARIO);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\/\*\n \* .*ok\.ts as a program for a real POWER host/);
    expect(r.out).toContain('int main(int argc, char **argv)');
  });

  it('exits 2 and writes nothing when the scenario cannot complete', async () => {
    const bad = file('throws.ts', 'const host = createHost();\nthrow new Error("boom");\n');
    const out = join(dir, 'throws.c');
    const r = await cli('export-c', bad, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/throws\.ts:2:\d+: .*boom/);
    expect(r.err).toContain('no program to write');
    expect(existsSync(out)).toBe(false);
    const missing = await cli('export-c', join(dir, 'nope.ts'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such file or directory');
  });

  it('keeps an existing output file when the export fails', async () => {
    const out = file('keep.c', 'old\n');
    const r = await cli('export-c', file('syntax.ts', 'const = ;\n'), '--out', out);
    expect(r.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('old\n');
  });

  it.each([
    [['export-c'], 'missing scenario file'],
    [['export-c', 'a.ts', 'b.ts'], "unexpected argument 'b.ts'"],
    [['export-c', 'a.ts', '--json'], 'export-c takes no --json'],
    [['export-c', 'a.ts', '--snapshot', 'x'], 'export-c takes no --snapshot'],
    [['export-c', 'a.ts', '--kernel', 'both'], "--kernel must be 4.2, 5.x or mainline, got 'both'"],
    [['export-c', 'a.ts', '--out', 'a.ts'], '--out is the scenario file itself'],
    [['run', 'a.ts', '--out', 'x.c'], '--out is an option of export-c'],
  ])('%j is a usage error (64): %s', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(64);
    expect(r.err).toContain(message);
  });

  it('accepts every kernel profile name', () => {
    for (const k of ['4.2', '5.x', 'mainline'])
      expect(parseArgs(['export-c', 'a.ts', '--kernel', k])).toEqual({
        kind: 'export-c',
        args: { file: 'a.ts', kernel: k, out: undefined, timeoutSeconds: undefined },
      });
  });
});
