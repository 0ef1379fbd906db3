/**
 * Time travel: folding the event deltas must give exactly the state the live engine had after every event
 * (engine/state.ts). Checked over every conformance run, after every event, with small checkpoint
 * intervals so that checkpoints, replays and the head are all exercised.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../engine/session.ts';
import {
  captureState,
  entries,
  findEntry,
  occupancy,
  validEntries,
  type WorldState,
} from '../../engine/state.ts';
import { jsonSafe } from '../../engine/snapshot.ts';
import { Timeline } from '../../engine/timeline.ts';
import { runDirect } from '../support/direct.ts';

const dir = new URL('../conformance/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const norm = (s: WorldState): unknown => jsonSafe(s);

describe('the fold of the event log equals the live state', () => {
  it.each(files)('%s: after every event', (f) => {
    const src = readFileSync(new URL(f, dir), 'utf8');
    const live: unknown[] = [];
    // capture the live state as each event is recorded
    let session: Session | undefined;
    const r = runDirect(
      src,
      f.includes('4.2') ? '4.2' : 'mainline',
      (s) => {
        session = s;
      },
      (e) => live.push(norm(captureState(session!.kernels, e.seq))),
    );
    const tl = new Timeline(5);
    for (const e of r.events) tl.push(e);
    expect(live.length).toBe(r.events.length);
    for (let i = 0; i < r.events.length; i++) {
      const seq = r.events.at(i)!.seq;
      expect(norm(tl.stateAt(seq)), `${f} after event ${seq} (${r.events.at(i)!.kind})`).toEqual(live[i]);
    }
  });
});

describe('window queries', () => {
  const src = `
    const host = createHost({ kernel: 'mainline' });
    const g = host.addPhb().addGroup();
    const p = host.spawn({ memlock: 16n * GiB });
    const R = p.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
    const C = p.openContainer();
    const gf = p.openGroup(g);
    gf.setContainer(C);
    C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
    C.registerMemory({ vaddr: R, size: 1n * GiB });
    C.removeWindow({ startAddr: 0n });
    C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 });
    C.mapDma({ vaddr: R, iova: 0n, size: 0x100000n });
    C.mapDma({ vaddr: R + 0x200000n, iova: 0x800000n, size: 0x20000n, flags: READ });
  `;
  const r = runDirect(src, 'mainline');
  const st = captureState(r.session.kernels, r.events.length);
  const w = st.windows[0]!;

  it('stores the contents as maximal linear runs', () => {
    expect(w.runs.map((x) => [x.start, x.count])).toEqual([
      [0, 16],
      [128, 2],
    ]);
  });

  it('reads entries with empty ones in between', () => {
    const rows = entries(w, 14, 4);
    expect(rows.map((x) => x.index)).toEqual([14, 15, 16, 17]);
    expect(rows[1]!.ua).toBe(0x7fff00000000n + 15n * 0x10000n);
    expect(rows[2]!.value).toBe(0n);
    expect(entries(w, 129, 1)[0]!.perm).toBe(1);
    expect(entries(w, 129, 1)[0]!.iova).toBe(129n * 0x10000n);
  });

  it('pages through valid entries only', () => {
    const v = validEntries(w, 15, 3);
    expect(v.total).toBe(18);
    expect(v.rows.map((x) => x.index)).toEqual([15, 128, 129]);
  });

  it('finds entries by IOVA and by user address', () => {
    expect(findEntry(w, { iova: 0x810000n })).toBe(129);
    expect(findEntry(w, { ua: 0x7fff00000000n + 0x210000n + 5n })).toBe(129);
    expect(findEntry(w, { ua: 0x1000n })).toBe(-1);
    expect(findEntry(w, { iova: 1n << 40n })).toBe(-1);
  });

  it('computes occupancy per slice of the window', () => {
    const o = occupancy(w, 1024); // 16384 entries, 16 per bucket
    expect(o[0]).toBe(1);
    expect(o[1]).toBe(0);
    expect(o[8]).toBeCloseTo(2 / 16);
  });
});
