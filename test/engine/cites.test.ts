/**
 * Issue 7 item 5: every refusal the engine gives names the kernel function that decides it. Every bundled
 * example and every conformance file is run in every profile (not only the one it is written for: the
 * other profiles reach refusals the file's own profile never gives), and every ioctl, syscall and hcall
 * event must carry a cite `path/file.c: function` whose file is in engine/cite.ts's list, whose function
 * has its section in docs/kernel/, and which its why names. The random call sequences of the property
 * tests are checked the same way in invariants.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../engine/api.ts';
import type { RunEvent } from '../../engine/events.ts';
import { runDirect } from '../support/direct.ts';
import { docAnchors, isRefusal, uncited } from '../support/cites.ts';

const KERNELS: KernelName[] = ['4.2', '5.x', 'mainline'];
const anchors = docAnchors();

function sources(rel: string): [string, string][] {
  const dir = new URL(rel, import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => [f, readFileSync(new URL(f, dir), 'utf8')]);
}

/** runs a scenario and returns its events, also when the scenario throws part-way (wrong profile) */
function eventsOf(source: string, kernel: KernelName): RunEvent[] {
  const events: RunEvent[] = [];
  try {
    runDirect(source, kernel, undefined, (e) => events.push(e));
  } catch {
    // a file written for another profile may stop early; the events it produced still count
  }
  return events;
}

const runs = [
  ...sources('../../examples/').map(([f, s]) => ['examples/' + f, s] as const),
  ...sources('../conformance/').map(([f, s]) => ['test/conformance/' + f, s] as const),
];

describe('every result cites the kernel function that decides it', () => {
  const refusals = new Map<KernelName, Set<string>>();
  describe.each(KERNELS)('%s', (kernel) => {
    it.each(runs)('%s', (_file, source) => {
      const events = eventsOf(source, kernel);
      expect(events.length).toBeGreaterThan(0);
      expect(uncited(events, anchors)).toEqual([]);
      const seen = refusals.get(kernel) ?? new Set<string>();
      for (const e of events) if (isRefusal(e)) seen.add(`${e.op}:${e.ret}`);
      refusals.set(kernel, seen);
    });
  });

  // the runs above must reach many different refusals, or the test proves little
  it.each(KERNELS)('the runs reach many kinds of refusal in %s', (kernel) => {
    expect(refusals.get(kernel)?.size ?? 0).toBeGreaterThan(kernel === '4.2' ? 25 : 35);
  });
});

describe('the check itself', () => {
  const one = (): RunEvent[] =>
    eventsOf(
      `const h = createHost(); const p = h.spawn({ name: 'q' }); const c = p.openContainer();
       expectErrno(c.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), errno.EINVAL);`,
      'mainline',
    );

  it('passes a cited refusal', () => {
    const ev = one();
    expect(ev.some(isRefusal)).toBe(true);
    expect(uncited(ev, anchors)).toEqual([]);
  });

  it('fails an event without a cite, with a cite of an unknown file, or of an undocumented function', () => {
    for (const broken of [
      (e: RunEvent & { cite?: unknown }) => delete e.cite,
      (e: RunEvent & { cite?: unknown }) => (e.cite = { file: 'drivers/vfio/nowhere.c', fn: 'x' }),
      (e: RunEvent & { cite?: unknown }) =>
        (e.cite = { file: 'drivers/vfio/vfio_iommu_spapr_tce.c', fn: 'tce_iommu_no_such_function' }),
    ]) {
      const ev = one();
      const r = ev.find(isRefusal)!;
      broken(r);
      expect(uncited(ev, anchors)).toHaveLength(1);
    }
  });
});
