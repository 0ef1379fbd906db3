/** The text log explains every call that did not simply return 0, right under it (product.md: "read why each call failed"). */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'dmawb-why-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('prints the rule that decided a failed call under its log line', async () => {
  const f = join(dir, 'memlock.ts');
  writeFileSync(
    f,
    [
      'const host = createHost();',
      'const g = host.addPhb().addGroup();',
      'const p = host.spawn();',
      'const C = p.openContainer();',
      'p.openGroup(g).setContainer(C);',
      'C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);',
      'C.registerMemory({ vaddr: p.mmap({ size: 1n << 30n }), size: 1n << 30n });',
    ].join('\n'),
  );
  let out = '';
  const code = await main(['run', f, '--kernel', 'mainline'], {
    stdout: (s) => void (out += s),
    stderr: () => undefined,
  });
  expect(code).toBe(0);
  const lines = out.split('\n');
  const i = lines.findIndex(
    (l) => l.includes('VFIO_IOMMU_SPAPR_REGISTER_MEMORY(') && l.includes('-12 ENOMEM'),
  );
  expect(i).toBeGreaterThan(0);
  expect(lines[i + 1]).toMatch(
    /^\s+why: .*16384 pages would exceed RLIMIT_MEMLOCK \(1 pages = 65536 bytes\).*§1\.5/,
  );
  // the why names the kernel function that decided it, and the line under it where the reference describes it
  expect(lines[i + 1]).toMatch(/ — mm\/util\.c: __account_locked_vm$/);
  // (after the memlock advice that elaborates on the why)
  const see = lines.slice(i + 2).findIndex((l) => /^\s+see /.test(l));
  expect(see).toBeGreaterThanOrEqual(0);
  expect(lines[i + 2 + see]).toMatch(/^\s+see docs\/kernel\/locked-vm\.md#__account_locked_vm$/);
  expect(lines.slice(i + 2, i + 2 + see).every((l) => !/^\s+(why|see) /.test(l))).toBe(true);
  expect(existsSync(new URL('../../docs/kernel/locked-vm.md', import.meta.url))).toBe(true);
  // a plain success has no explanation line
  const ok = lines.findIndex((l) => l.includes('VFIO_SET_IOMMU(type=7) = 0'));
  expect(lines[ok + 1]).not.toMatch(/why:/);
});

it('adds the cite and the reference path to --json events (new fields; the documented ones are unchanged)', async () => {
  const f = join(dir, 'enotty.ts');
  writeFileSync(
    f,
    [
      'const host = createHost();',
      'const g = host.addPhb().addGroup();',
      'const p = host.spawn();',
      'const C = p.openContainer();',
      'p.openGroup(g).setContainer(C);',
      'C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);',
      'C.enable();',
    ].join('\n'),
  );
  let out = '';
  const code = await main(['run', f, '--kernel', 'mainline', '--json'], {
    stdout: (s) => void (out += s),
    stderr: () => undefined,
  });
  expect(code).toBe(0);
  const doc = JSON.parse(out) as { events: Record<string, unknown>[] };
  const e = doc.events.find((x) => x.op === 'VFIO_IOMMU_ENABLE')!;
  expect(e).toMatchObject({
    ret: -25,
    errno: 'ENOTTY',
    cite: 'drivers/vfio/vfio_iommu_spapr_tce.c: tce_iommu_ioctl',
    doc: 'docs/kernel/spapr-tce.md#tce_iommu_ioctl',
  });
  expect(Object.keys(e).slice(0, 9)).toEqual([
    'seq',
    'line',
    'pid',
    'kind',
    'op',
    'args',
    'ret',
    'errno',
    'lockedVm',
  ]);
});
