/**
 * The columnar event store (engine/event-store.ts) gives back exactly the events pushed into it: the same
 * keys in the same order, the same value types (bigint stays bigint, -0 stays -0), over every conformance
 * run and over arbitrary event-like objects (fast-check).
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../engine/event-store.ts';
import type { RunEvent } from '../../engine/events.ts';
import { runDirect } from '../support/direct.ts';
import { testSeed, withSeed } from '../support/seed.ts';

/** a serialisation that tells apart everything the store must keep: types, key order, -0, undefined */
function ser(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  if (v === null || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  return `{${Object.entries(v as object)
    .map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`)
    .join(',')}}`;
}

const dir = new URL('../conformance/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

describe('event store: the same events out as in', () => {
  it('every event of every conformance run, through at(), iteration and the columns', () => {
    let total = 0;
    for (const f of files) {
      const src = readFileSync(new URL(f, dir), 'utf8');
      const originals: RunEvent[] = [];
      const r = runDirect(src, f.includes('4.2') ? '4.2' : 'mainline', undefined, (e) => originals.push(e));
      const store = new EventStore();
      for (const e of originals) store.push(e);
      expect(store.length).toBe(originals.length);
      let i = 0;
      for (const e of store) {
        const o = originals[i]!;
        expect(ser(e), `${f} event ${i}`).toBe(ser(o));
        expect(ser(store.at(i)), `${f} at(${i})`).toBe(ser(o));
        expect(store.seqAt(i)).toBe(o.seq);
        expect(store.kindAt(i)).toBe(o.kind);
        if (o.kind === 'ioctl' || o.kind === 'action') {
          expect(store.pidAt(i)).toBe(o.pid);
          expect(ser(store.accountingAt(i)!.lockedVm)).toBe(ser(o.lockedVm));
          expect(ser(store.accountingAt(i)!.breakdown)).toBe(ser(o.breakdown));
          const v = store.foldView(i) as { deltas?: unknown; lockedVm?: unknown; explain?: unknown };
          expect(ser(v.deltas)).toBe(ser(o.deltas));
          expect(v.explain).toBeUndefined();
        }
        if (o.kind === 'ioctl') expect(store.retAt(i)).toBe(o.ret);
        i++;
      }
      // the session itself records into a store: the same events
      expect(ser(r.events.slice())).toBe(ser(originals));
      total += originals.length;
    }
    expect(total).toBeGreaterThan(1000);
  });

  it('arbitrary event-like objects: odd numbers, huge bigints, strings with numbers and marks, odd keys', () => {
    const leaf = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(-0, 2 ** 52, -(2 ** 52), 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, NaN, Infinity),
      fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
      fc.constantFrom(0n, (1n << 52n) - 1n, 1n << 52n, -(1n << 52n), (1n << 64n) - 1n),
      fc.string(),
      fc.constantFrom(
        'VFIO_IOMMU_MAP_DMA: 1 TCEs in window slot 0 entries 2048–2048 through region 0x7fff00000000 (mapped 12) (§4.6.4)',
        'at 0x0010 and 007 and 0xABC and 0x1234567890abcdef12 and 1234567890123456789 and 4.2 and 0x10..0x20',
        'marks \u0000 \u0001 \u0002 5',
        '',
      ),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('a:b', '{', '"', '12', 'x,y')), tie('v'), {
          maxKeys: 4,
        }),
      ),
    })).v;
    const event = fc.record(
      {
        seq: fc.oneof(fc.nat(), fc.constant(-1), fc.constant(1.5)),
        kind: fc.oneof(fc.constantFrom('ioctl', 'action', 'expect', 'log', 'hcall'), fc.integer()),
        pid: fc.oneof(fc.integer(), fc.constant(2 ** 40), fc.string()),
        op: fc.oneof(fc.string(), fc.integer()),
        ret: fc.oneof(fc.integer({ min: -200, max: 5 }), fc.double()),
        line: fc.oneof(fc.nat(), fc.constant(undefined)),
        lockedVm: fc.oneof(fc.dictionary(fc.string(), fc.integer()), fc.constant(null)),
        breakdown: fc.oneof(fc.dictionary(fc.string(), value), fc.constant(undefined)),
        args: value,
        explain: fc.string(),
        deltas: value,
      },
      { requiredKeys: [] },
    );
    const seed = testSeed(8);
    withSeed('event store round trip', seed, () =>
      fc.assert(
        fc.property(fc.array(event, { maxLength: 20 }), (evs) => {
          const store = new EventStore();
          for (const e of evs) store.push(e as unknown as RunEvent);
          expect(store.length).toBe(evs.length);
          evs.forEach((e, i) => expect(ser(store.at(i))).toBe(ser(e)));
          expect(ser(store.slice(-3))).toBe(ser(evs.slice(-3)));
          expect(store.at(evs.length)).toBeUndefined();
        }),
        { seed, numRuns: 400 },
      ),
    );
  });

  it("an own '__proto__' key (as JSON.parse makes) comes back as a key, not as the object's prototype", () => {
    // found by the property above with seed 1661681935: the decoder assigned it and lost it
    const breakdown = JSON.parse('{"__proto__": [1, 2], "regions": 3}') as Record<string, unknown>;
    const store = new EventStore();
    store.push({ seq: 1, kind: 'ioctl', lockedVm: { 1: 2 }, breakdown } as unknown as RunEvent);
    const back = store.at(0) as unknown as { breakdown: Record<string, unknown> };
    expect(Object.keys(back.breakdown)).toEqual(['__proto__', 'regions']);
    expect(Object.getPrototypeOf(back.breakdown)).toBe(Object.prototype);
    expect(ser(back)).toBe(ser({ seq: 1, kind: 'ioctl', lockedVm: { 1: 2 }, breakdown }));
  });

  it('consecutive events that share their locked_vm objects share one record, and byteSize grows with use', () => {
    const store = new EventStore();
    const lockedVm = { 100: 5 };
    const breakdown = {
      100: { v1Enable: 0, regions: 5, tables: 0, views: 0, leaked: 0, kvmTables: 0, mlocked: 0 },
    };
    const empty = store.byteSize();
    for (let i = 0; i < 100_000; i++)
      store.push({
        seq: i + 1,
        kind: 'ioctl',
        pid: 100,
        fd: { type: 'container', id: 1 },
        op: 'VFIO_IOMMU_MAP_DMA',
        args: {
          vaddr: 0x7fff00000000n + BigInt(i) * 0x10000n,
          iova: BigInt(i % 4096) * 0x10000n,
          size: 0x10000n,
          flags: 3,
        },
        ret: 0,
        errno: null,
        lockedVm,
        breakdown,
        explain: `VFIO_IOMMU_MAP_DMA: 1 TCEs in window slot 0 entries ${i % 4096}–${i % 4096} (§4.6.4)`,
        deltas: {
          tces: [
            {
              container: 1,
              slot: 0,
              table: 1,
              start: i % 4096,
              count: 1,
              value: 0x1000003 + i * 0x10000,
              ua: 0x7fff00000000 + i * 0x10000,
              step: 0x10000,
            },
          ],
        },
        line: 12,
      });
    const per = (store.byteSize() - empty) / 100_000;
    expect(per).toBeGreaterThan(10);
    expect(per).toBeLessThan(120);
    const a = store.accountingAt(5)!;
    expect(a.lockedVm).toBe(store.accountingAt(99_999)!.lockedVm);
    expect(a.lockedVm).toEqual({ 100: 5 });
  });
});
