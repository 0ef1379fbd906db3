/**
 * A snapshot with its event log written in pieces (snapshotPieces: the engine worker's export of a large
 * run) is byte for byte the document serializeSnapshot writes, reads its events from the log one at a
 * time, and refuses a log that would make the file larger than a snapshot may be, in bounded memory.
 */
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../engine/event-store.ts';
import { Session } from '../../engine/session.ts';
import { parseSnapshot, serializeSnapshot, SnapshotError, snapshotPieces } from '../../engine/snapshot.ts';
import { Timeline } from '../../engine/timeline.ts';

function run(): Session {
  const s = new Session({ kernel: 'mainline' });
  const host = s.createHost({ kernel: 'mainline' });
  const G = host.addPhb().addGroup();
  const q = host.spawn({ name: 'qemu', memlock: 1n << 30n });
  const R = q.mmap({ size: 1n << 28n, at: 0x7fff00000000n });
  const C = q.openContainer();
  q.openGroup(G).setContainer(C);
  C.setIommu(7);
  C.registerMemory({ vaddr: R, size: 1n << 28n });
  for (let i = 0; i < 40; i++)
    C.mapDma({ vaddr: R + BigInt(i) * 0x10000n, iova: BigInt(i) * 0x10000n, size: 0x10000n });
  C.unmapDma({ iova: 0n, size: 1n << 40n }); // refused: a failed call in the log too
  return s;
}

const meta = {
  appName: 'dma-workbench',
  appVersion: '0.0.0',
  kernel: 'mainline' as const,
  scenarioName: 's.ts',
  scenarioSha256: null,
};

describe('snapshotPieces', () => {
  const s = run();
  const tl = new Timeline(undefined, [], s.events);
  for (let i = 0; i < s.events.length; i++) tl.push(s.events.at(i)!);

  for (const seq of [0, 1, 7, s.events.length - 1, s.events.length]) {
    it(`is serializeSnapshot's text, events up to ${seq}`, () => {
      const state = tl.stateAt(seq);
      const whole = serializeSnapshot({ meta, state, events: s.events.slice() });
      const pieces = snapshotPieces({ meta, state }, s.events);
      expect(pieces.join('')).toBe(whole);
      expect(parseSnapshot(whole).events?.length ?? 0).toBe(seq);
      expect(snapshotPieces({ meta, state }, null).join('')).toBe(serializeSnapshot({ meta, state }));
    });
  }

  it('reads the log event by event, never as an array', () => {
    let reads = 0;
    const probe = new Proxy(s.events, {
      get(t, k) {
        if (k === 'at')
          return (i: number) => {
            reads++;
            return t.at(i);
          };
        if (k === 'slice' || k === 'filter' || k === 'map' || k === Symbol.iterator)
          throw new Error(`snapshotPieces asked the log for ${String(k)}`);
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as EventStore;
    const state = tl.stateAt(s.events.length);
    expect(snapshotPieces({ meta, state }, probe).join('')).toBe(
      serializeSnapshot({ meta, state, events: s.events.slice() }),
    );
    expect(reads).toBe(s.events.length);
  });

  it('refuses a log that would pass the size limit, saying how far it got', () => {
    const state = tl.stateAt(s.events.length);
    const size = Buffer.byteLength(serializeSnapshot({ meta, state, events: s.events.slice() }));
    expect(() => snapshotPieces({ meta, state }, s.events, size - 10)).toThrow(SnapshotError);
    expect(() => snapshotPieces({ meta, state }, s.events, size - 10)).toThrow(
      /larger than 0 MiB .* after \d+ of its events; export it without the event log, or stream the log with `dmawb run --jsonl`/,
    );
    expect(Buffer.byteLength(snapshotPieces({ meta, state }, s.events, size).join(''))).toBe(size);
  });
});
