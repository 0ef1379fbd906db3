/**
 * `dmawb size` (scenario-api.md §4.1) and the advice memlock refusals carry in `dmawb run` (text, JSON,
 * --report). Every bundled example is sized under every profile: the printed minMemlockBytes must make
 * the scenario run with no refusal, and one page less must refuse — checked here by rerunning the
 * scenario ourselves with the figure forced, independently of the command's own verification.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { runScenario } from '../../runner/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const files = readdirSync(examples)
  .filter((f) => f.endsWith('.ts') && f !== 'huge-ddw-1tib.ts') // 1 TiB: sized below, once
  .sort();

interface SizeDoc {
  format: string;
  version: number;
  scenario: string;
  kernel: string;
  pageSize: number;
  processes: {
    pid: number;
    name: string;
    peakPages: number;
    peakSeq: number;
    minMemlockBytes: string;
    parts: Record<string, number>;
    libvirt: null | { limitBytes: string; inputs: object; enough: boolean; marginBytes: string };
  }[];
}

describe.each(['4.2', '5.x', 'mainline'])('size --kernel %s', (kernel) => {
  it.each(files)(
    '%s: minMemlockBytes runs clean, one page less refuses',
    async (f) => {
      const path = join(examples, f);
      const r = await cli('size', path, '--kernel', kernel, '--json');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out) as SizeDoc;
      expect(Object.keys(doc).slice(0, 6)).toEqual([
        'format',
        'version',
        'scenario',
        'kernel',
        'pageSize',
        'processes',
      ]);
      expect(doc).toMatchObject({
        format: 'dmawb-size',
        version: 1,
        scenario: path,
        kernel,
        pageSize: 65536,
      });
      const source = readFileSync(path, 'utf8');
      for (const p of doc.processes) {
        expect(Object.keys(p).slice(0, 7)).toEqual([
          'pid',
          'name',
          'peakPages',
          'peakSeq',
          'minMemlockBytes',
          'parts',
          'libvirt',
        ]);
        const min = BigInt(p.minMemlockBytes);
        expect(min).toBe(BigInt(p.peakPages) * 65536n);
        expect(Object.values(p.parts).reduce((s, n) => s + n, 0)).toBe(p.peakPages);
        if (p.peakPages === 0) continue;
        const refusals = async (limit: bigint) =>
          (
            await runScenario({
              source,
              kernel: kernel as '4.2',
              memlock: { kind: 'limits', limits: { [p.pid]: limit } },
            })
          ).events.filter((e) => e.kind === 'ioctl' && e.memlock?.pid === p.pid).length;
        expect(await refusals(min), 'at minMemlockBytes').toBe(0);
        expect(await refusals(min - 65536n), 'one page less').toBeGreaterThan(0);
      }
      if (f.startsWith('libvirt-') || f === 'memlock-default-64k.ts') {
        const lv = doc.processes[0]!.libvirt!;
        expect(lv.enough).toBe(f !== 'libvirt-hotplug.ts');
        expect(BigInt(lv.marginBytes)).toBe(
          BigInt(lv.limitBytes) - BigInt(doc.processes[0]!.minMemlockBytes),
        );
      }
    },
    60_000,
  );
});

describe('size', () => {
  const MEMLOCK = join(examples, 'memlock-default-64k.ts');

  it('text: peak, event, parts, both verification runs, knobs and libvirt side by side', async () => {
    const r = await cli('size', MEMLOCK);
    expect(r.code).toBe(0);
    const out = r.out;
    expect(out).toContain('peak locked_vm: 65616 pages = 4199424 KiB at event');
    expect(out).toContain('VFIO_IOMMU_SPAPR_TCE_CREATE');
    expect(out).toContain(
      'made of: pre-registered regions 65536 pages (4194304 KiB), TCE tables 80 pages (5120 KiB)',
    );
    expect(out).toContain('minimal RLIMIT_MEMLOCK: 4300210176 bytes = 4199424 KiB (65616 pages)');
    expect(out).toMatch(/rerun at 4199424 KiB: no refusal/);
    expect(out).toMatch(
      /rerun at 4199360 KiB \(one page less\): refused at event \d+ \(line 64\) VFIO_IOMMU_SPAPR_TCE_CREATE/,
    );
    expect(out).toContain('verified: yes');
    expect(out).toContain('ulimit -l 4199424');
    expect(out).toContain('(a) hash page table (maxMemory/128): 4194304/128 = 32768 KiB');
    expect(out).toContain("libvirt's limit 4255744 KiB covers the peak with 56320 KiB to spare.");
  });

  it('the 1 TiB example: 16781378 pages on mainline, verified', async () => {
    const r = await cli('size', join(examples, 'huge-ddw-1tib.ts'), '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as SizeDoc & { processes: { verify: { verified: boolean } }[] };
    expect(doc.processes[0]).toMatchObject({ peakPages: 16781378, minMemlockBytes: '1099784388608' });
    expect(doc.processes[0]!.verify.verified).toBe(true);
  }, 60_000);

  it('exit 2 when the scenario cannot complete or cannot be read; 64 on usage errors', async () => {
    const bad = join(dir, 'throw.ts');
    writeFileSync(bad, 'createHost();\nthrow new Error("stop");\n');
    const t = await cli('size', bad);
    expect(t.code).toBe(2);
    expect(t.err).toContain(`${bad}:2:`);
    expect((await cli('size', join(dir, 'missing.ts'))).code).toBe(2);
    for (const argv of [
      ['size'],
      ['size', MEMLOCK, 'extra'],
      ['size', MEMLOCK, '--kernel', 'both'],
      ['size', MEMLOCK, '--snapshot', 'x.json'],
      ['size', MEMLOCK, '--timeout', '-1'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(64);
      expect(r.out).toBe('');
    }
  });
});

describe('run: every memlock refusal says what to do', () => {
  const HOTPLUG = join(examples, 'libvirt-hotplug.ts');

  it('text: the why is followed by the facts in pages and KiB, both limits and the knobs', async () => {
    const r = await cli('run', HOTPLUG);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const i = lines.findIndex((l) => l.includes('VFIO_IOMMU_SPAPR_REGISTER_MEMORY') && l.includes('ENOMEM'));
    expect(i).toBeGreaterThan(0);
    expect(lines[i + 1]).toMatch(/^\s+why: VFIO_IOMMU_SPAPR_REGISTER_MEMORY: /);
    expect(lines[i + 2]).toContain(
      'memlock: locked_vm 131200 pages (8396800 KiB) + this charge 65536 pages (4194304 KiB) = 196736 pages (12591104 KiB) > RLIMIT_MEMLOCK 133696 pages (8556544 KiB',
    );
    expect(lines[i + 3]).toContain(
      'this call needs RLIMIT_MEMLOCK >= 12591104 KiB (196736 pages); the whole scenario needs 12591104 KiB',
    );
    expect(lines[i + 4]).toContain('ulimit -l 12591104');
    expect(lines[i + 4]).toContain('LimitMEMLOCK=12893290496');
    // the lines after the refusal are still all there, in order
    expect(r.out).toContain('expectations: 18 passed, 0 failed');
    expect(lines.filter((l) => /^\s+\d+ L/.test(l)).map((l) => Number(l.trim().split(' ')[0]))).toEqual(
      Array.from({ length: lines.filter((l) => /^\s+\d+ L/.test(l)).length }, (_, k) => k + 1),
    );
  });

  it('JSON: refusal events gain a memlock object (additive)', async () => {
    const r = await cli('run', HOTPLUG, '--json');
    const doc = JSON.parse(r.out) as { events: { errno?: string; memlock?: Record<string, unknown> }[] };
    const e = doc.events.find((x) => x.memlock);
    expect(e?.memlock).toMatchObject({
      chargePages: 65536,
      lockedVmPages: 131200,
      limitPages: 133696,
      callNeedsBytes: String(196736n * 65536n),
      scenarioNeedsBytes: String(196736n * 65536n),
    });
    expect(doc.events.filter((x) => x.memlock).length).toBe(
      doc.events.filter((x) => x.errno === 'ENOMEM').length,
    );
  });

  it('--report: the advice is under the failed call', async () => {
    const out = join(dir, 'r.md');
    expect((await cli('run', HOTPLUG, '--report', out)).code).toBe(0);
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('  - this call needs RLIMIT_MEMLOCK >= 12591104 KiB');
    expect(md).toContain("<memtune><hard_limit unit='KiB'>12591104</hard_limit></memtune>");
  });
});
