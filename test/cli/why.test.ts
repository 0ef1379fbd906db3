/** The text log explains every call that did not simply return 0, right under it (product.md: "read why each call failed"). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  // a plain success has no explanation line
  const ok = lines.findIndex((l) => l.includes('VFIO_SET_IOMMU(type=7) = 0'));
  expect(lines[ok + 1]).not.toMatch(/why:/);
});
