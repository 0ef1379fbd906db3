import { beforeEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../../common/contract';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { useAppStore } from '../../renderer/src/stores/app';
import { useRunStore } from '../../renderer/src/stores/run';
import { useSelectionStore } from '../../renderer/src/stores/selection';
import { useWorkspaceStore } from '../../renderer/src/stores/workspace';
import { useNoticesStore } from '../../renderer/src/stores/notices';
import { setup, until } from './helpers';

let fake: FakeBridge;

async function start(text: string, files: Record<string, string> = {}): Promise<void> {
  fake = setup({ files: { 'qemu-v2-ddw.ts': text, ...files } });
  await useAppStore().start();
}

function row(seq: number, over: Partial<EventRow> = {}): EventRow {
  return {
    seq,
    kind: 'ioctl',
    pid: 7,
    op: 'VFIO_IOMMU_MAP_DMA',
    args: '',
    result: '0',
    failed: false,
    lockedVm: { '7': seq },
    explain: '',
    ...over,
  };
}

describe('run store', () => {
  beforeEach(() => start('// @events 40\n'));

  it('streams rows, then summary, problems, locked_vm and the first problem selected', async () => {
    const run = useRunStore();
    await run.start();
    await until(() => run.status === 'done', 'the run to end');
    expect(run.rowCount).toBe(40);
    expect(Array.from({ length: run.rowCount }, (_, i) => run.seqAt(i))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    // the fake fails every 7th call with EBUSY and every 11th step is a failed expectation
    expect(run.problems.failedCalls).toBe(5);
    expect(run.problems.failedExpectations).toBe(3);
    expect(run.problems.total).toBe(8);
    expect(run.problemSeqs).toEqual([7, 11, 14, 21, 22, 28, 33, 35]);
    expect(run.summary?.events).toBe(40);
    expect(run.pids).toEqual([1]);
    await until(() => run.lockedVm[1], 'the locked_vm series');
    expect(run.lockedVm[1]!.failed).toEqual(run.problemSeqs);
    const sel = useSelectionStore();
    await until(() => sel.state, 'the state');
    // a run with problems stops on the first one
    expect(sel.seq).toBe(7);
  });

  it('sends the editor text, file name and chosen kernel', async () => {
    const run = useRunStore();
    run.kernel = '4.2';
    useWorkspaceStore().setText('// @events 3\nedited');
    await run.start();
    const call = fake.calls.find((c) => c.channel === 'run.start')!;
    expect(call.payload).toEqual({
      source: '// @events 3\nedited',
      filename: 'qemu-v2-ddw.ts',
      kernel: '4.2',
    });
    await until(() => run.status === 'done', 'the run to end');
    expect(run.origin).toEqual({ kind: 'run', filename: 'qemu-v2-ddw.ts', kernel: '4.2' });
  });

  it('keeps rows that arrive before the reply to run.start', async () => {
    const run = useRunStore();
    // a bridge whose host streams the whole run before it answers run.start
    const original = fake['run.start'];
    fake['run.start'] = async (req) => {
      const reply = await original(req);
      if (reply.ok) {
        fake.emit('run.events', {
          source: reply.value.source,
          rows: [row(1), row(2, { failed: true, result: '-16 EBUSY', errno: 'EBUSY' })],
        });
        fake.emit('run.events', { source: 'run-999', rows: [row(1)] }); // someone else's run
        fake.emit('run.done', {
          source: reply.value.source,
          ok: false,
          expectations: { passed: 0, failed: 0 },
          events: 2,
          peakLockedVm: {},
          error: null,
          durationMs: 1,
        });
      }
      return reply;
    };
    useWorkspaceStore().setText('// @events 0\n');
    await run.start();
    await until(() => run.status === 'done', 'the run to end');
    expect(Array.from({ length: run.rowCount }, (_, i) => run.seqAt(i))).toEqual([1, 2]);
    expect(run.problems.failedCalls).toBe(1);
    expect(run.pids).toEqual([7]);
  });

  it("a Stop is not a problem: it says where the run was (the engine's cancelled kind, with its line)", async () => {
    const run = useRunStore();
    const original = fake['run.start'];
    fake['run.start'] = async (req) => {
      const reply = await original(req);
      if (reply.ok)
        fake.emit('run.done', {
          source: reply.value.source,
          ok: false,
          expectations: { passed: 0, failed: 0 },
          events: 0,
          peakLockedVm: {},
          error: { kind: 'cancelled', message: 'the run was stopped', line: 4, column: 1 },
          durationMs: 1,
        });
      return reply;
    };
    useWorkspaceStore().setText('// @events 0\n');
    await run.start();
    await until(() => run.status === 'done', 'the run to end');
    expect(run.problems.error).toBeNull();
    expect(run.problems.total).toBe(0);
    expect(run.stopped).toEqual({ line: 4, column: 1 });
  });

  it('ignores the rows of an older run once a new one started', async () => {
    const run = useRunStore();
    await run.start();
    await until(() => run.status === 'done', 'first run');
    const old = run.source!;
    await run.start();
    await until(() => run.status === 'done', 'second run');
    const n = run.rowCount;
    fake.emit('run.events', { source: old, rows: [row(99)] });
    expect(run.rowCount).toBe(n);
    expect(run.source).not.toBe(old);
  });

  it('Stop ends a runaway run', async () => {
    useWorkspaceStore().setText('while (true) {}\n');
    const run = useRunStore();
    await run.start();
    await until(() => run.rowCount > 100, 'rows to stream');
    expect(run.running).toBe(true);
    await run.stop();
    await until(() => run.status === 'done', 'the run to end');
    expect(run.summary?.error?.kind).toBe('stopped');
    // a user's Stop is not a problem of the scenario
    expect(run.problems.error).toBeNull();
    expect(run.stopped).toEqual({ line: null, column: null });
    const n = run.rowCount;
    await new Promise((r) => setTimeout(r, 60));
    expect(run.rowCount).toBe(n);
  });

  it('reports compile and runtime errors with their line', async () => {
    const run = useRunStore();
    useWorkspaceStore().setText('a\nb\n// @compile-error\n');
    await run.start();
    await until(() => run.status === 'done', 'the run');
    expect(run.problems.error).toMatchObject({ kind: 'compile', line: 3 });
    expect(run.problems.total).toBe(1);

    useWorkspaceStore().setText('x\nthrow 1\n');
    await run.start();
    await until(() => run.status === 'done', 'the run');
    expect(run.problems.error).toMatchObject({ kind: 'runtime', line: 2, message: 'Error: boom' });
  });

  it('a refused run.start is a visible problem, not a hang', async () => {
    const run = useRunStore();
    fake['run.start'] = async () => ({
      ok: false,
      error: { code: 'invalid', message: 'run.start: source is larger than 2 MiB' },
    });
    await run.start();
    expect(run.status).toBe('failed');
    expect(run.problems.error?.message).toContain('larger than 2 MiB');
    expect(run.running).toBe(false);
  });

  it('an engine restart during a run ends it with a message and keeps the text', async () => {
    useWorkspaceStore().setText('while (true) {}\n');
    const run = useRunStore();
    await run.start();
    await until(() => run.rowCount > 0, 'rows');
    fake.emit('engine.restarted', { reason: 'the worker ran out of memory' });
    expect(run.status).toBe('failed');
    expect(run.problems.error?.message).toContain('ran out of memory');
    expect(useWorkspaceStore().text).toBe('while (true) {}\n');
    expect(useNoticesStore().items.map((n) => n.key)).toContain('engine-restarted');
    await fake['run.stop']({ source: run.source! }); // stop the fake's timer
  });

  it('imports a snapshot and inspects it like a run', async () => {
    const run = useRunStore();
    const ok = await run.importSnapshot(
      JSON.stringify({ format: 'dmawb-snapshot', seq: 20, events: 20, kernel: '4.2' }),
      'bug.json',
    );
    expect(ok).toBe(true);
    expect(run.status).toBe('imported');
    expect(run.origin).toMatchObject({ kind: 'snapshot', name: 'bug.json', kernel: '4.2', seq: 20 });
    expect(run.rowCount).toBe(20);
    const sel = useSelectionStore();
    await until(() => sel.state, 'state');
    expect(sel.seq).toBe(20);
    expect(run.lockedVm[1]).toBeDefined();
  });

  it('an import is not settled until its rows are read and its step is selected', async () => {
    const run = useRunStore();
    const sel = useSelectionStore();
    await run.start();
    await until(() => run.status === 'done', 'run');
    await run.whenLoaded();
    // the host reads the snapshot's event log slowly
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rows = fake['inspect.rows'];
    fake['inspect.rows'] = async (req) => {
      await gate;
      return rows(req);
    };
    const importing = run.importSnapshot(
      JSON.stringify({ format: 'dmawb-snapshot', seq: 20, events: 20, kernel: '4.2' }),
      'bug.json',
    );
    // what the e2e harness does: wait for the status, then for whenLoaded and the selection
    await until(() => run.status === 'imported', 'the imported status');
    setTimeout(release, 20);
    await run.whenLoaded();
    await sel.whenReady();
    expect(sel.seq).toBe(20);
    expect(sel.state?.seq).toBe(20);
    expect(await importing).toBe(true);
  });

  it('counts a refusal that a passing expectation on the same line covers as expected, not a problem', () => {
    const run = useRunStore();
    run._append([
      row(1, { line: 3, failed: true, errno: 'ENXIO', result: '-6 ENXIO' }),
      row(2, { line: 3, kind: 'expect', op: 'expectErrno', result: 'ok' }),
      row(3, { line: 5, failed: true, errno: 'EBUSY', result: '-16 EBUSY' }),
      row(4, { line: 6, kind: 'expect', op: 'expectOk', result: 'ok' }),
    ]);
    expect(run.problems).toMatchObject({ failedCalls: 1, expected: 1, total: 1 });
    expect(run.problemSeqs).toEqual([3]);
  });

  it('a bad snapshot changes nothing and says why', async () => {
    const run = useRunStore();
    await run.start();
    await until(() => run.status === 'done', 'run');
    const before = { source: run.source, rows: run.rowCount };
    expect(await run.importSnapshot('{"format":"nope"}', 'bad.json')).toBe(false);
    expect({ source: run.source, rows: run.rowCount }).toEqual(before);
    expect(useNoticesStore().items.find((n) => n.key === 'import')?.text).toMatch(/bad\.json.*format/);
  });
});

describe('run store: rows beyond the streamed tail come from the host by page', () => {
  it('keeps columns for every row, full rows only for the tail and fetched pages', async () => {
    fake = setup({ files: { 'big.ts': '// @events 5000\n' } });
    await useAppStore().start();
    await useWorkspaceStore().open('big.ts');
    const run = useRunStore();
    await run.start();
    await until(() => run.status === 'done', 'the run');
    expect(run.rowCount).toBe(5000);
    expect(run.lastSeq).toBe(5000);
    // the last two pages (seq 4001–5000 of pages of 1,000) came with the stream
    expect(run.rowBySeq(4500)?.seq).toBe(4500);
    const asked: number[] = [];
    const rows = fake['inspect.rows'];
    fake['inspect.rows'] = async (req) => {
      asked.push(req.from);
      return rows(req);
    };
    expect(run.peekBySeq(1234)).toBeUndefined();
    expect(run.rowBySeq(1234)).toBeUndefined(); // starts the fetch of its page
    expect(run.lineOf(1234)).toBeDefined(); // the columns answer at once
    await until(() => run.rowBySeq(1234) !== undefined, 'the page of seq 1234');
    expect(run.rowBySeq(1234)!.seq).toBe(1234);
    expect(run.rowBySeq(1999)!.seq).toBe(1999);
    expect(asked).toEqual([1000]);
    expect(run.rowBySeq(5001)).toBeUndefined();
  });
});
