import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { registerAppCommands } from '../../renderer/src/composables/appCommands';
import {
  chordLabel,
  chordOf,
  commandForChord,
  commandList,
  defineCommand,
  getCommand,
  normalizeChord,
  runCommand,
  UnknownCommandError,
} from '../../renderer/src/composables/commands';
import { paletteOpen } from '../../renderer/src/composables/ui';
import { MENU_COMMANDS } from '../../common/commands';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { useAppStore } from '../../renderer/src/stores/app';
import { useEventLogStore } from '../../renderer/src/stores/eventLog';
import { useInspectorStore } from '../../renderer/src/stores/inspector';
import { useRunStore } from '../../renderer/src/stores/run';
import { useSelectionStore } from '../../renderer/src/stores/selection';
import { setup, until } from './helpers';

const key = (k: string, m: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...m,
});

describe('command registry', () => {
  it('runs commands by id, refuses unknown ids, and skips disabled ones', async () => {
    let n = 0;
    let on = true;
    const off = defineCommand({ id: 'test-count', title: 'Count', enabled: () => on, run: () => ++n });
    expect(await runCommand('test-count')).toBe(1);
    on = false;
    expect(await runCommand('test-count')).toBe(false);
    expect(n).toBe(1);
    await expect(runCommand('no-such-command')).rejects.toBeInstanceOf(UnknownCommandError);
    off();
    expect(getCommand('test-count')).toBeUndefined();
  });

  it('turns key events into chords the way commands write them', () => {
    expect(chordOf(key('P', { ctrlKey: true, shiftKey: true }), false)).toBe('Mod+Shift+P');
    expect(chordOf(key('p', { metaKey: true, shiftKey: true }), true)).toBe('Mod+Shift+P');
    expect(chordOf(key('F5'), false)).toBe('F5');
    expect(chordOf(key('ArrowDown', { altKey: true }), false)).toBe('Alt+ArrowDown');
    expect(normalizeChord('shift+mod+p')).toBe('Mod+Shift+P');
    expect(chordLabel('Mod+Shift+P', false)).toBe('Ctrl+Shift+P');
    expect(chordLabel('Mod+Shift+P', true)).toBe('⌘⇧P');
  });
});

describe('app commands', () => {
  let fake: FakeBridge;
  let off: () => void;
  beforeEach(async () => {
    fake = setup({ files: { 'qemu-v2-ddw.ts': '// @events 40\n' } });
    await useAppStore().start();
    off = registerAppCommands();
  });
  afterEach(() => off());

  it('has the stable ids the menu, the shortcuts and the tests rely on', () => {
    const ids = commandList.value.map((c) => c.id);
    for (const id of [
      'run',
      'stop',
      'select-next-event',
      'select-prev-event',
      'export-snapshot',
      'export-report',
      'export-csv',
      'import-snapshot',
      'toggle-valid-only',
      'focus-jump',
      'open-palette',
      'new-scenario',
      'kernel-4.2',
      'kernel-mainline',
    ]) {
      expect(ids, id).toContain(id);
    }
    // every desktop menu item reaches a command
    for (const id of Object.keys(MENU_COMMANDS)) expect(getCommand(id), id).toBeDefined();
    // no chord is bound twice
    const chords = commandList.value.flatMap((c) => (c.keys ?? []).map(normalizeChord));
    expect(new Set(chords).size).toBe(chords.length);
    expect(commandForChord('Mod+Shift+P')?.id).toBe('open-palette');
  });

  it('run, step through events, toggle valid-only, switch kernel, open the palette', async () => {
    const run = useRunStore();
    const sel = useSelectionStore();
    expect(getCommand('stop')!.enabled!()).toBe(false);
    await runCommand('run');
    await until(() => run.status === 'done' && sel.state, 'the run');
    expect(sel.seq).toBe(7); // the first problem
    await runCommand('select-last-event');
    expect(sel.seq).toBe(40);
    await runCommand('select-prev-event');
    expect(sel.seq).toBe(39);
    await runCommand('select-first-event');
    expect(sel.seq).toBe(1);
    await runCommand('select-next-event');
    expect(sel.seq).toBe(2);
    await runCommand('select-next-problem');
    expect(sel.seq).toBe(7);
    await runCommand('select-prev-problem');
    expect(sel.seq).toBe(35);
    await runCommand('select-event', 12);
    expect(sel.seq).toBe(12);
    useEventLogStore().filters.problemsOnly = true;
    await nextTick();
    await runCommand('select-next-event');
    expect(sel.seq).toBe(14);

    const insp = useInspectorStore();
    const v = insp.validOnly;
    await runCommand('toggle-valid-only');
    expect(insp.validOnly).toBe(!v);

    await runCommand('kernel-4.2');
    expect(run.kernel).toBe('4.2');
    await runCommand('kernel.mainline'); // the menu's id
    expect(run.kernel).toBe('mainline');

    await runCommand('open-palette');
    expect(paletteOpen.value).toBe(true);
    paletteOpen.value = false;
  });

  it('the menu reaches commands through command.run events', async () => {
    const run = useRunStore();
    fake.emit('command.run', { id: 'kernel.4.2' });
    await until(() => run.kernel === '4.2', 'the kernel switch');
    fake.emit('command.run', { id: 'run.start' });
    await until(() => run.status === 'done', 'the run');
  });

  it('Stop is a command too', async () => {
    const run = useRunStore();
    await useRunStore().start();
    expect(getCommand('stop')!.enabled!()).toBe(false); // the fake's 40-event run is already over
    const { useWorkspaceStore } = await import('../../renderer/src/stores/workspace');
    useWorkspaceStore().setText('while (true) {}\n');
    await runCommand('run');
    await until(() => run.rows.length > 0, 'rows');
    expect(getCommand('run')!.enabled!()).toBe(false);
    await runCommand('stop');
    await until(() => run.status === 'done', 'the stop');
    expect(run.summary?.error?.kind).toBe('stopped');
  });
});
