/**
 * Snapshots (product.md §Snapshots): deterministic, compact, validated against the JSON Schema that is
 * generated from the import validator, and strict on import: every malformed file is refused with a
 * message that names what is wrong.
 */
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { snapshotJsonSchema } from '../../engine/snapshot-schema.ts';
import {
  diffStates,
  tceRangeLines,
  jsonSafe,
  parseSnapshot,
  serializeSnapshot,
  SnapshotError,
  SNAPSHOT_MAX_BYTES,
  snapshotOf,
} from '../../engine/snapshot.ts';
import { captureState } from '../../engine/state.ts';
import { Timeline } from '../../engine/timeline.ts';
import { runDirect } from '../support/direct.ts';

const c16 = readFileSync(new URL('../conformance/c16-mainline.ts', import.meta.url), 'utf8');
const meta = {
  appName: 'dma-workbench',
  appVersion: '0.1.0',
  kernel: 'mainline' as const,
  scenarioName: 'c16-mainline.ts',
  scenarioSha256: null,
};

function snapshotAt(seq: number, includeEvents = false): string {
  const r = runDirect(c16, 'mainline');
  const tl = new Timeline();
  for (const e of r.events) tl.push(e);
  return serializeSnapshot({
    meta,
    state: tl.stateAt(seq),
    ...(includeEvents ? { events: [...r.events] } : {}),
  });
}

// the step right after MAP(R, 1<<59, 4 GiB): 65536 live TCEs in window 1
const afterBigMap = (() => {
  const r = runDirect(c16, 'mainline');
  return r.events.find(
    (e) => e.kind === 'ioctl' && e.op === 'VFIO_IOMMU_MAP_DMA' && e.args.size === 4n << 30n,
  )!.seq;
})();

describe('snapshot files', () => {
  it('are byte-identical for the same scenario and step', () => {
    expect(snapshotAt(afterBigMap)).toBe(snapshotAt(afterBigMap));
  });

  it('store 65536 mapped entries as one run, in a few kilobytes', () => {
    const text = snapshotAt(afterBigMap);
    const doc = JSON.parse(text);
    const w1 = doc.state.windows.find((w: { slot: number }) => w.slot === 1);
    expect(w1.runs).toHaveLength(1);
    expect(w1.runs[0].count).toBe(65536);
    expect(text.length).toBeLessThan(8000);
  });

  it('round-trip: parse(serialize(state)) gives the same state', () => {
    const r = runDirect(c16, 'mainline');
    const tl = new Timeline();
    for (const e of r.events) tl.push(e);
    const st = tl.stateAt(afterBigMap);
    const back = parseSnapshot(serializeSnapshot({ meta, state: st, events: [...r.events] }));
    expect(jsonSafe(back.state)).toEqual(jsonSafe(st));
    expect(back.meta).toEqual(meta);
    expect(back.events).toHaveLength(afterBigMap);
  });

  it('validate against the JSON Schema in the repository, which matches the import validator', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../schema/snapshot.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(snapshotJsonSchema());
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(committed);
    const doc = JSON.parse(snapshotAt(afterBigMap, true));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...doc, version: 3 })).toBe(false);
  });

  it('of the live end state equal the folded end state', () => {
    const r = runDirect(c16, 'mainline');
    const live = snapshotOf(r.session, meta);
    const tl = new Timeline();
    for (const e of r.events) tl.push(e);
    expect(live.state).toEqual(
      JSON.parse(serializeSnapshot({ meta, state: tl.stateAt(r.events.length) })).state,
    );
  });
});

describe('snapshot import refuses bad files with a clear error', () => {
  const good = JSON.parse(snapshotAt(afterBigMap));
  const bad = (mut: (d: any) => void): string => {
    const d = structuredClone(good);
    mut(d);
    return JSON.stringify(d);
  };
  const cases: [string, string, RegExp][] = [
    ['truncated', snapshotAt(afterBigMap).slice(0, 500), /not valid JSON.*truncated/],
    [
      'another format',
      bad((d) => {
        d.format = 'something-else';
      }),
      /format is "something-else"/,
    ],
    [
      'a future version',
      bad((d) => {
        d.version = 7;
      }),
      /version 7 was written by a newer/,
    ],
    [
      'a bad hex address',
      bad((d) => {
        d.state.regions[0].ua = '7fff';
      }),
      /state\.regions\.0\.ua: must be a lowercase hex/,
    ],
    [
      'an unknown field',
      bad((d) => {
        d.state.extra = 1;
      }),
      /state/,
    ],
    [
      'a negative count',
      bad((d) => {
        d.state.windows[1].runs[0].count = -1;
      }),
      /state\.windows\.1\.runs\.0\.count/,
    ],
    [
      'overlapping runs',
      bad((d) => {
        const r = d.state.windows[1].runs[0];
        d.state.windows[1].runs.push({ ...r, start: 5 });
      }),
      /runs overlap/,
    ],
    [
      'runs past the window',
      bad((d) => {
        d.state.windows[1].runs[0].count = 70000;
      }),
      /past the window/,
    ],
    [
      'a wrong kernel',
      bad((d) => {
        d.kernel = '5.4';
      }),
      /kernel/,
    ],
    ['not an object', '[1,2,3]', /snapshot/],
  ];
  it.each(cases)('%s', (_what, text, msg) => {
    expect(() => parseSnapshot(text)).toThrow(SnapshotError);
    expect(() => parseSnapshot(text)).toThrow(msg);
  });

  it('an oversized file, before parsing it', () => {
    const huge = ' '.repeat(SNAPSHOT_MAX_BYTES + 1);
    expect(() => parseSnapshot(huge)).toThrow(/larger than the .*import limit/);
  });
});

describe('comparing snapshots', () => {
  it('lists what changed between two steps', () => {
    const r = runDirect(c16, 'mainline');
    const tl = new Timeline();
    for (const e of r.events) tl.push(e);
    const d = diffStates(tl.stateAt(afterBigMap - 1), tl.stateAt(afterBigMap));
    expect(d.lines.some((l) => l.startsWith('~ window') && l.includes('65536 valid TCEs'))).toBe(true);
    expect(d.lines.some((l) => l.startsWith('~ region') && l.includes('mapped 65539'))).toBe(true);
    expect(diffStates(captureState(r.session.kernels, 1), captureState(r.session.kernels, 1)).lines).toEqual(
      [],
    );
  });

  it('names the TCE ranges a window gained, lost or had rewritten, capped per window', () => {
    const w = (runs: { start: number; count: number; value: bigint; ua: bigint; step: number }[]) => ({
      container: 1,
      slot: 0,
      table: 1,
      startAddr: 0n,
      pageShift: 12,
      size: 1n << 30n,
      levels: 1,
      entries: 262144,
      offset: 0,
      borrowed: false,
      runs,
    });
    const a = w([
      { start: 0, count: 4, value: 0x1003n, ua: 0x7000n, step: 4096 },
      { start: 10, count: 2, value: 0x9003n, ua: 0x9000n, step: 4096 },
    ]);
    const b = w([
      { start: 0, count: 2, value: 0x1003n, ua: 0x7000n, step: 4096 },
      { start: 2, count: 2, value: 0x5003n, ua: 0x5000n, step: 4096 },
      { start: 20, count: 1, value: 0xa003n, ua: 0xa000n, step: 4096 },
    ]);
    expect(tceRangeLines(a, b)).toEqual([
      'TCE 2..3 (iova 0x2000..0x3fff, 2 entries): rewritten',
      'TCE 10..11 (iova 0xa000..0xbfff, 2 entries): cleared',
      'TCE 20 (iova 0x14000..0x14fff, 1 entry): mapped',
    ]);
    expect(tceRangeLines(a, a)).toEqual([]);
    expect(tceRangeLines(a, b, 1)).toEqual([
      'TCE 2..3 (iova 0x2000..0x3fff, 2 entries): rewritten',
      '… and 2 more changed ranges',
    ]);
    const s0 = { seq: 1, hosts: [], processes: [], regions: [], groups: [], containers: [], windows: [a] };
    expect(diffStates(s0, { ...s0, windows: [b] }).lines.slice(1)).toEqual(
      tceRangeLines(a, b).map((l) => `    ${l}`),
    );
  });
});
