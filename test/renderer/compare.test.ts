/**
 * The compare store and its commands against the fake bridge: compare with the previous event, two
 * chosen steps, an imported snapshot against the run before it, and kernel profiles.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { registerAppCommands } from '../../renderer/src/composables/appCommands';
import { commandList, getCommand, runCommand } from '../../renderer/src/composables/commands';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { useAppStore } from '../../renderer/src/stores/app';
import { useCompareStore } from '../../renderer/src/stores/compare';
import { useRunStore } from '../../renderer/src/stores/run';
import { useSelectionStore } from '../../renderer/src/stores/selection';
import { setup, until } from './helpers';

describe('compare commands', () => {
  let fake: FakeBridge;
  let off: () => void;
  beforeEach(async () => {
    fake = setup({ files: { 'qemu-v2-ddw.ts': '// @events 40\n' } });
    await useAppStore().start();
    off = registerAppCommands();
  });
  afterEach(() => off());

  it('are registered, reachable from their old ids, and disabled without a source', () => {
    const ids = commandList.value.map((c) => c.id);
    for (const id of ['compare.withPrevious', 'compare.steps', 'compare.profiles', 'compare.close'])
      expect(ids, id).toContain(id);
    expect(getCommand('compare-profiles')?.id).toBe('compare.profiles');
    expect(getCommand('compare.withPrevious')!.enabled!()).toBe(false);
    expect(getCommand('compare.profiles')!.enabled!()).toBe(true);
  });

  it('compare: the selected event against the state before it', async () => {
    const run = useRunStore();
    const sel = useSelectionStore();
    const cmp = useCompareStore();
    await runCommand('run.start');
    await until(() => run.status === 'done' && sel.state, 'the run');
    await runCommand('events.select', 2);
    expect(getCommand('compare.withPrevious')!.enabled!()).toBe(true);
    await runCommand('compare.withPrevious');
    expect(cmp.view).toBe('steps');
    expect(cmp.a).toEqual({ source: run.source, seq: 1 });
    expect(cmp.b).toEqual({ source: run.source, seq: 2 });
    expect(fake.calls.filter((c) => c.channel === 'inspect.compare').at(-1)!.payload).toEqual({
      a: { source: run.source, seq: 1 },
      b: { source: run.source, seq: 2 },
    });
    // seq 2 creates the window and charges its table
    expect(cmp.lines.some((l) => l.startsWith('+ window'))).toBe(true);
    expect(cmp.lines).toContain('    lockedVm: 65536 → 67584');
    expect(cmp.summary).toMatchObject({ added: 1, changed: 1, identical: false });
    expect(cmp.error).toBeNull();
    await runCommand('compare.close');
    expect(cmp.view).toBeNull();
  });

  it('compare-steps: any two steps; an unknown source is an error in the view, not a throw', async () => {
    const run = useRunStore();
    const cmp = useCompareStore();
    await runCommand('run.start');
    await until(() => run.status === 'done', 'the run');
    await runCommand('compare.steps', {
      a: { source: run.source, seq: 5 },
      b: { source: run.source, seq: 5 },
    });
    expect(cmp.summary?.identical).toBe(true);
    expect(cmp.lines).toEqual([]);
    await runCommand('compare.steps', { a: { source: 'run-99', seq: 1 }, b: { source: run.source, seq: 5 } });
    expect(cmp.error).toMatch(/unknown source run-99/);
    expect(cmp.summary).toBeNull();
  });

  it("remembers the run before an import: the snapshot is compared with that run's selected step", async () => {
    const run = useRunStore();
    const sel = useSelectionStore();
    const cmp = useCompareStore();
    await runCommand('run.start');
    await until(() => run.status === 'done' && sel.state, 'the run');
    const runId = run.source!;
    await runCommand('events.select', 1);
    await nextTick();
    expect(
      await run.importSnapshot(
        JSON.stringify({ format: 'dmawb-snapshot', version: 1, seq: 30, kernel: '4.2', events: 0 }),
        'x.json',
      ),
    ).toBe(true);
    await nextTick();
    expect(cmp.known.map((k) => k.id)).toEqual([run.source, runId]);
    expect(cmp.known[0]!.kind).toBe('snapshot');
    expect(cmp.defaultPair()).toEqual({ a: { source: runId, seq: 1 }, b: { source: run.source, seq: 30 } });
    await runCommand('compare.withPrevious');
    expect(cmp.summary?.a).toContain('fake.ts · mainline · after seq 1');
    expect(cmp.summary?.b).toContain('snapshot of fake · 4.2 · after seq 30');
    expect(cmp.lines.some((l) => l.startsWith('~ window'))).toBe(false);
    expect(cmp.lines.some((l) => l.startsWith('+ window'))).toBe(true);
  });

  it('compare-profiles: runs the open scenario under both profiles and opens the view on the divergence', async () => {
    const cmp = useCompareStore();
    const p = runCommand('compare.profiles');
    expect(cmp.profilesRunning).toBe(true);
    expect(getCommand('compare.profiles')!.enabled!()).toBe(false);
    await p;
    expect(cmp.view).toBe('profiles');
    expect(cmp.profilesRunning).toBe(false);
    expect(fake.calls.find((c) => c.channel === 'run.compare')!.payload).toEqual({
      source: '// @events 40\n',
      filename: 'qemu-v2-ddw.ts',
      profiles: ['4.2', 'mainline'],
    });
    expect(cmp.profiles?.firstDivergence).toBe(1);
    expect(cmp.profiles?.rows[1]!.calls['4.2']!.result).toBe('-12 ENOMEM');
    expect(cmp.profilesError).toBeNull();
  });

  it('compare-profiles with a pair: any two of the three profiles, remembered for the next run', async () => {
    const cmp = useCompareStore();
    await runCommand('compare.profiles', ['5.x', 'mainline']);
    const calls = fake.calls.filter((c) => c.channel === 'run.compare');
    expect(calls.at(-1)!.payload).toMatchObject({ profiles: ['5.x', 'mainline'] });
    expect(cmp.profiles?.profiles).toEqual(['5.x', 'mainline']);
    expect(cmp.profiles?.rows[1]!.calls['5.x']!.result).toBe('-12 ENOMEM');
    await runCommand('compare.profiles');
    expect(fake.calls.filter((c) => c.channel === 'run.compare').at(-1)!.payload).toMatchObject({
      profiles: ['5.x', 'mainline'],
    });
  });
});
