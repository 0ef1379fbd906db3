import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { useAppStore } from '../../renderer/src/stores/app';
import { PAGE, parseJump, useInspectorStore } from '../../renderer/src/stores/inspector';
import { useRunStore } from '../../renderer/src/stores/run';
import { changedRunsOf, useSelectionStore } from '../../renderer/src/stores/selection';
import { setup, until } from './helpers';

let fake: FakeBridge;
const ENTRIES = 1 << 20;

async function ranRun(events = 40): Promise<void> {
  fake = setup({ files: { 'qemu-v2-ddw.ts': `// @events ${events}\n` }, windowEntries: ENTRIES });
  await useAppStore().start();
  const run = useRunStore();
  await run.start();
  await until(() => run.status === 'done' && useSelectionStore().state, 'the run and its state');
  // the run stops on its first problem; these tests start from the end of the run
  await run.whenLoaded();
  await useSelectionStore().select(run.maxSeq);
}

describe('selection (time travel)', () => {
  beforeEach(() => ranRun());

  it('shows the state after the selected event, clamped to the run', async () => {
    const sel = useSelectionStore();
    await sel.select(1);
    expect(sel.state!.seq).toBe(1);
    expect(sel.state!.windows.map((w) => w.slot)).toEqual([0]); // the DDW window is created by event 2
    await sel.select(3);
    expect(sel.state!.windows.find((w) => w.slot === 1)!.valid).toBe(4096);
    await sel.select(10_000);
    expect(sel.seq).toBe(40);
    await sel.select(-5);
    expect(sel.seq).toBe(0);
  });

  it('a newer selection wins over answers still in flight', async () => {
    const sel = useSelectionStore();
    const a = sel.select(3);
    const b = sel.select(5);
    await Promise.all([a, b]);
    expect(sel.seq).toBe(5);
    expect(sel.state!.seq).toBe(5);
  });

  it("knows which TCE runs the selected event wrote (inspect.event's deltas.tces)", async () => {
    const sel = useSelectionStore();
    await sel.select(4);
    expect(sel.changed).toEqual([{ container: 0, slot: 1, table: 2, start: 4096, count: 4096 }]);
    expect(useInspectorStore().isChanged(4096)).toBe(true);
    expect(useInspectorStore().isChanged(4095)).toBe(false);
    await sel.select(7); // a failed UNREGISTER writes nothing
    expect(sel.changed).toEqual([]);
    expect(
      changedRunsOf({
        deltas: {
          tces: [{ container: 1, slot: 0, table: 3, start: 2, count: 1, value: '0x3', ua: '0x0', step: 0 }],
        },
      }),
    ).toEqual([{ container: 1, slot: 0, table: 3, start: 2, count: 1 }]);
    expect(changedRunsOf(null)).toEqual([]);
  });
});

describe('inspector', () => {
  beforeEach(() => ranRun());

  it('after a run shows the window that has valid entries', () => {
    const insp = useInspectorStore();
    expect(insp.window?.slot).toBe(1);
    expect(insp.window!.valid).toBeGreaterThan(0);
    expect(insp.total).toBe(ENTRIES);
  });

  it('fetches only the pages on screen, and serves rows from them', async () => {
    const insp = useInspectorStore();
    const before = fake.calls.filter((c) => c.channel === 'inspect.entries').length;
    await insp.ensure(500_000, 40);
    const calls = fake.calls.filter((c) => c.channel === 'inspect.entries').slice(before);
    expect(calls.map((c) => (c.payload as { from: number }).from)).toEqual([
      Math.floor(500_000 / PAGE) * PAGE,
    ]);
    expect(insp.rowAt(500_010)?.index).toBe(500_010);
    expect(insp.rowAt(0)).toBeUndefined();
    // asking again costs nothing
    await insp.ensure(500_000, 40);
    expect(fake.calls.filter((c) => c.channel === 'inspect.entries').length).toBe(before + 1);
  });

  it('drops its cache when the selected step changes', async () => {
    const insp = useInspectorStore();
    const sel = useSelectionStore();
    await insp.ensure(0, 10);
    expect(insp.rowAt(0)?.perm).toBe(3);
    await sel.select(2); // window exists, nothing mapped yet
    expect(insp.rowAt(0)).toBeUndefined();
    await insp.ensure(0, 10);
    expect(insp.rowAt(0)?.perm).toBe(0);
  });

  it('valid-only pages through valid entries', async () => {
    const insp = useInspectorStore();
    insp.setValidOnly(true);
    expect(insp.total).toBe(insp.window!.valid);
    await insp.ensure(0, 5);
    expect(insp.rowAt(0)?.perm).toBe(3);
    await insp.ensure(4096, 1);
    expect(insp.rowAt(4096)?.index).toBe(4096);
  });

  it('jumps to an IOVA, a userspace address and a slot index', async () => {
    const insp = useInspectorStore();
    expect(await insp.jump('0x0800000000100000')).toBeNull();
    expect(insp.scrollTarget?.position).toBe(0x10);
    expect(insp.jumped).toBe(0x10);
    expect(await insp.jump('ua:0x7fff00020000')).toBeNull();
    expect(insp.scrollTarget?.position).toBe(2);
    expect(await insp.jump('#1234')).toBeNull();
    expect(insp.scrollTarget?.position).toBe(1234);
    expect(await insp.jump('0x1000')).toBeNull(); // inside slot 0's bus range: switches window
    expect(insp.window?.slot).toBe(0);
    expect(insp.scrollTarget?.position).toBe(1);
    expect(await insp.jump('zzz')).toMatch(/type an address/);
    expect(await insp.jump('0xdead00000000000')).toMatch(/neither a bus address/);
  });

  it('a jump in valid-only mode stays valid-only and scrolls to the position among the valid entries', async () => {
    const insp = useInspectorStore();
    insp.setValidOnly(true);
    // the fake's event k+3 maps slots [k*4096, (k+1)*4096); event 7 (k = 4) failed, so slots 16384..20479 are empty
    const stride = 4096;
    const ddw = BigInt(insp.window!.startAddr);
    const iovaOf = (slot: number) => `0x${(ddw + (BigInt(slot) << 16n)).toString(16)}`;
    expect(await insp.jump(iovaOf(5 * stride + 7))).toBeNull();
    expect(insp.validOnly).toBe(true);
    expect(insp.jumped).toBe(5 * stride + 7);
    expect(insp.scrollTarget?.position).toBe(4 * stride + 7);
    await insp.ensure(insp.scrollTarget!.position, 1);
    expect(insp.rowAt(insp.scrollTarget!.position)?.index).toBe(5 * stride + 7);
    // by userspace address and by slot index
    expect(
      await insp.jump(`ua:0x${(0x7fff00000000n + (BigInt(6 * stride) << 16n)).toString(16)}`),
    ).toBeNull();
    expect(insp.scrollTarget?.position).toBe(5 * stride);
    expect(await insp.jump('#77')).toBeNull();
    expect(insp.validOnly).toBe(true);
    expect(insp.scrollTarget?.position).toBe(77);
    const finds = fake.calls.filter((c) => c.channel === 'inspect.find');
    expect(finds.length).toBe(3);
  });

  it('a jump to an empty entry leaves valid-only mode (the valid-only list does not show it)', async () => {
    const insp = useInspectorStore();
    insp.setValidOnly(true);
    expect(await insp.jump('#16400')).toBeNull();
    expect(insp.validOnly).toBe(false);
    expect(insp.scrollTarget?.position).toBe(16400);
    expect(insp.jumped).toBe(16400);
  });

  it('follows the window the selected event changed, unless pinned; pinned, a chip names the other window', async () => {
    const insp = useInspectorStore();
    const sel = useSelectionStore();
    insp.choose(0, 0);
    await sel.select(30);
    // event 30 writes TCEs in the DDW window (slot 1): the view follows it
    expect(insp.touchedWindow?.slot).toBe(1);
    expect(insp.window?.slot).toBe(1);
    insp.choose(0, 0);
    insp.setPinned(true);
    await sel.select(29);
    await sel.select(30);
    expect(insp.window?.slot).toBe(0);
    expect(insp.changedElsewhere?.slot).toBe(1);
    insp.showChanged();
    expect(insp.window?.slot).toBe(1);
    expect(insp.changedElsewhere).toBeNull();
  });

  it('loads the occupancy of the whole window', async () => {
    const insp = useInspectorStore();
    await insp.loadOccupancy();
    await until(() => insp.occupancy, 'occupancy');
    expect(insp.occupancy!.length).toBe(1024);
    expect(insp.occupancy![0]).toBeGreaterThan(0);
  });

  it('parses what users type in the jump field', () => {
    expect(parseJump('0x1000')).toEqual({ kind: 'addr', value: 0x1000n });
    expect(parseJump('  0X0800_0000_0000_0000 ')).toEqual({ kind: 'addr', value: 0x0800000000000000n });
    expect(parseJump('ff')).toEqual({ kind: 'addr', value: 0xffn });
    expect(parseJump('ua:0x7fff00000000')).toEqual({ kind: 'addr', value: 0x7fff00000000n, force: 'ua' });
    expect(parseJump('iova 0x10')).toEqual({ kind: 'addr', value: 0x10n, force: 'iova' });
    expect(parseJump('#42')).toEqual({ kind: 'index', index: 42 });
    expect(parseJump('idx 7')).toEqual({ kind: 'index', index: 7 });
    expect(parseJump('0x1' + '0'.repeat(16))).toBeNull();
    expect(parseJump('hello')).toBeNull();
    expect(parseJump('')).toBeNull();
  });
});
