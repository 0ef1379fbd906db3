/** The CLI names the profile that ran, and says when the scenario's createHost({ kernel }) overrode --kernel. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-kernel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: () => {} });
  return { code, out };
}
const PINNED = join(dir, 'pinned.ts');
writeFileSync(
  PINNED,
  "const host = createHost({ kernel: '4.2' });\nhost.spawn({ name: 'q' });\nexpectEq(host.kernel, '4.2');\n",
);
const FREE = join(dir, 'free.ts');
writeFileSync(FREE, "const host = createHost();\nhost.spawn({ name: 'q' });\n");

describe('kernel labels on the command line', () => {
  it('the summary names the kernel', async () => {
    expect((await cli('run', FREE, '--kernel', '4.2')).out).toMatch(/^kernel: 4\.2$/m);
    expect((await cli('run', FREE)).out).toMatch(/^kernel: mainline$/m);
  });
  it('a pinned kernel is named, with where it was pinned and what it overrode', async () => {
    const r = await cli('run', PINNED, '--kernel', 'mainline');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^kernel: 4\.2 \(pinned by the scenario: createHost\(\{ kernel \}\) at line 1; --kernel mainline overridden\)$/m,
    );
  });
  it('the snapshot and the JSON document name the profile that ran', async () => {
    const snap = join(dir, 'snap.json');
    await cli('run', PINNED, '--kernel', 'mainline', '--snapshot', snap);
    expect(JSON.parse(readFileSync(snap, 'utf8')).kernel).toBe('4.2');
    const j = await cli('run', PINNED, '--kernel', 'mainline', '--json');
    expect(JSON.parse(j.out).kernel).toBe('4.2');
  });
  it('--kernel both says the scenario pins its kernel instead of "the profiles agree"', async () => {
    const r = await cli('run', PINNED, '--kernel', 'both');
    expect(r.out).not.toMatch(/agree/);
    expect(r.out).toMatch(/the scenario pins its kernel \(createHost\(\{ kernel: '4\.2' \}\) at line 1\)/);
  });
});
