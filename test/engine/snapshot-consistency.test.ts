/**
 * Issue 12, item 5: snapshots are checked for consistency after the schema. Every state the engine can
 * produce passes (every step of every conformance scenario and example); a snapshot whose parts contradict
 * each other is refused with the path of the first contradiction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkConsistency, parseSnapshot, serializeSnapshot } from '../../engine/snapshot.ts';
import { Timeline } from '../../engine/timeline.ts';
import { runDirect } from '../support/direct.ts';

const dirs = [new URL('../conformance/', import.meta.url), new URL('../../examples/', import.meta.url)];
const files = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((n) => n.endsWith('.ts'))
    .map((n) => ({ name: n, source: readFileSync(new URL(n, d), 'utf8') })),
);

describe('every state the engine produces is consistent', () => {
  it.each(files.map((f) => [f.name, f.source] as const))('%s, at every step', (name, source) => {
    const kernels = name.includes('-4.2')
      ? (['4.2'] as const)
      : name.includes('-mainline')
        ? (['mainline'] as const)
        : (['4.2', 'mainline'] as const);
    for (const kernel of kernels) {
      const r = runDirect(source, kernel);
      const tl = new Timeline();
      for (const e of r.events) tl.push(e);
      const step = Math.max(1, Math.floor(r.events.length / 40));
      for (let seq = 0; seq <= r.events.length; seq += step) checkConsistency(tl.stateAt(seq));
      checkConsistency(tl.stateAt(r.events.length));
    }
  });
});

const c16 = readFileSync(new URL('../conformance/c16-mainline.ts', import.meta.url), 'utf8');
function goodJson(): Record<string, unknown> & { state: Record<string, Record<string, unknown>[]> } {
  const r = runDirect(c16, 'mainline');
  const tl = new Timeline();
  for (const e of r.events) tl.push(e);
  const meta = {
    appName: 'dma-workbench',
    appVersion: '0.1.0',
    kernel: 'mainline' as const,
    scenarioName: 'c16.ts',
    scenarioSha256: null,
  };
  // a step where every kind of object exists, so each reference can be broken
  for (let seq = r.events.length; seq >= 0; seq--) {
    const st = tl.stateAt(seq);
    if (st.windows.length && st.regions.length && st.groups.some((g) => g.container !== null))
      return JSON.parse(serializeSnapshot({ meta, state: st })) as never;
  }
  throw new Error('c16 never has a window, a region and an attached group at once');
}

describe('an inconsistent snapshot is refused with a located message', () => {
  const cases: [string, (j: ReturnType<typeof goodJson>) => void, RegExp][] = [
    [
      'a duplicate pid',
      (j) => j.state.processes!.push({ ...j.state.processes![0]! }),
      /state\.processes\.\d+: duplicate processes key 100/,
    ],
    [
      'a region of a process that is not there',
      (j) => (j.state.regions![0]!.pid = 4242),
      /state\.regions\.0\.pid: process 4242 is not in state\.processes/,
    ],
    [
      'a group in a container that is not there',
      (j) => (j.state.groups![0]!.container = 77),
      /state\.groups\.\d+\.container: container 77 is not in state\.containers/,
    ],
    [
      'a container listing a group that is not there',
      (j) => (j.state.containers![0]!.groups = [99]),
      /state\.containers\.0\.groups\.0: group 99 is not in state\.groups/,
    ],
    [
      'a window of a container that is not there',
      (j) => (j.state.windows![0]!.container = 55),
      /state\.windows\.0\.container: container 55/,
    ],
    [
      'a window whose size is not entries << pageShift',
      (j) => (j.state.windows![0]!.size = '0x1000'),
      /state\.windows\.0\.size: 0x1000 is not entries/,
    ],
    [
      'a window whose start is not offset << pageShift',
      (j) => (j.state.windows![0]!.startAddr = '0x123000'),
      /state\.windows\.0\.startAddr/,
    ],
    [
      'two windows in one slot',
      (j) => j.state.windows!.push({ ...j.state.windows![0]!, table: 999 }),
      /state\.windows\.1: duplicate windows key "\d+:\d"/,
    ],
    [
      'locked_vm that is not the sum of its parts',
      (j) => (j.state.processes![0]!.lockedVm = 12345),
      /state\.processes\.0: locked_vm 12345 is not the sum of its breakdown/,
    ],
    [
      'a process on a host that is not there',
      (j) => (j.state.processes![0]!.host = 9),
      /state\.processes\.0\.host: host 9 is not in state\.hosts/,
    ],
  ];
  it('the unmodified snapshot parses', () => {
    expect(() => parseSnapshot(JSON.stringify(goodJson()))).not.toThrow();
  });
  it.each(cases)('%s', (_what, mutate, message) => {
    const j = goodJson();
    expect(j.state.windows!.length).toBeGreaterThan(0);
    mutate(j);
    expect(() => parseSnapshot(JSON.stringify(j))).toThrow(message);
  });
});
