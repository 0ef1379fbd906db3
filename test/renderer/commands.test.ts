import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import {
  COMMAND_ALIASES,
  COMMANDS,
  MENU_COMMANDS,
  isCommandId,
  menuGroups,
  type CommandSpec,
} from '../../common/commands';
import { paletteArg, paletteEntries } from '../../renderer/src/composables/palette';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { useAppStore } from '../../renderer/src/stores/app';
import { useEventLogStore } from '../../renderer/src/stores/eventLog';
import { useInspectorStore } from '../../renderer/src/stores/inspector';
import { useRunStore } from '../../renderer/src/stores/run';
import { useSelectionStore } from '../../renderer/src/stores/selection';
import { setup, until } from './helpers';

const COMPONENTS = fileURLToPath(new URL('../../renderer/src/components', import.meta.url));

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

  it('registers exactly the table of common/commands.ts, with its labels, keys and conditions', () => {
    expect(commandList.value.map((c) => c.id).sort()).toEqual(COMMANDS.map((c) => c.id).sort());
    for (const spec of COMMANDS as readonly CommandSpec[]) {
      const c = getCommand(spec.id)!;
      expect(c.title, spec.id).toBe(spec.label);
      expect(c.category, spec.id).toBe(spec.category);
      expect(c.keys ?? [], spec.id).toEqual(spec.keys ?? []);
      expect(c.enabled === undefined, spec.id).toBe(spec.when === undefined);
      expect(c.arg, spec.id).toBe(spec.arg);
    }
    // ids are dotted and unique; no chord is bound twice
    for (const { id } of COMMANDS) expect(id).toMatch(/^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/);
    expect(new Set(COMMANDS.map((c) => c.id)).size).toBe(COMMANDS.length);
    const chords = commandList.value.flatMap((c) => (c.keys ?? []).map(normalizeChord));
    expect(new Set(chords).size).toBe(chords.length);
    expect(commandForChord('Mod+Shift+P')?.id).toBe('view.palette');
  });

  it('menu items, palette entries and keybindings all name ids of the table; every table id is in the palette', () => {
    const table = new Set<string>(COMMANDS.map((c) => c.id));
    // the desktop menu: every item the table places in a menu, and only those
    const menuIds = (['file', 'run', 'help'] as const).flatMap((m) => menuGroups(m).flat());
    expect(menuIds.length).toBeGreaterThan(0);
    for (const id of menuIds) expect(table, id).toContain(id);
    expect([...menuIds].sort()).toEqual(Object.keys(MENU_COMMANDS).sort());
    // keybindings: every chord runs a table command
    for (const c of commandList.value)
      for (const k of c.keys ?? []) expect(table, k).toContain(commandForChord(normalizeChord(k))?.id);
    // the palette lists every command of the table
    const listed = paletteEntries('').map((c) => c.id);
    for (const id of listed) expect(table, id).toContain(id);
    expect([...listed].sort()).toEqual([...table].sort());
    expect(paletteEntries('select event').map((c) => c.id)).toContain('events.select');
    // and the renderer's own buttons run table ids, never a compatibility alias
    const src = readdirSync(COMPONENTS).map((f) => readFileSync(join(COMPONENTS, f), 'utf8'));
    const literal = src.flatMap((t) =>
      [...t.matchAll(/(?:runCommand|getCommand|fromMenu|tip|label)\('([^']+)'/g)].map((m) => m[1]!),
    );
    expect(literal.length).toBeGreaterThan(5);
    for (const id of literal) expect(table, id).toContain(id);
  });

  it('the dashed ids of earlier releases still run their dotted command', async () => {
    for (const [alias, id] of Object.entries(COMMAND_ALIASES)) {
      expect(isCommandId(id), alias).toBe(true);
      expect(getCommand(alias)?.id, alias).toBe(id);
    }
    const run = useRunStore();
    await runCommand('kernel-4.2');
    expect(run.kernel).toBe('4.2');
    await runCommand('run');
    await until(() => run.status === 'done', 'the run');
    expect(useSelectionStore().seq).toBe(7);
    await runCommand('select-event', 12);
    expect(useSelectionStore().seq).toBe(12);
  });

  it('the palette turns typed text into the argument of a command that takes one, or says why not', async () => {
    await runCommand('run.start');
    const run = useRunStore();
    await until(() => run.status === 'done', 'the run');
    const select = getCommand('events.select')!;
    expect(select.arg).toMatch(/seq/);
    expect(paletteArg(select, 'twelve')).toEqual({ error: expect.stringMatching(/not an event seq/) });
    expect(paletteArg(select, ' 21 ')).toEqual({ arg: 21 });
    const steps = getCommand('compare.steps')!;
    expect(paletteArg(steps, '12')).toEqual({ error: expect.stringMatching(/two event seqs/) });
    expect(paletteArg(steps, '12, 30')).toEqual({
      arg: { a: { source: run.source, seq: 12 }, b: { source: run.source, seq: 30 } },
    });
    expect(paletteArg(getCommand('inspector.jump')!, ' 0x1000 ')).toEqual({ arg: '0x1000' });
  });

  it('run, step through events, toggle valid-only, switch kernel, open the palette', async () => {
    const run = useRunStore();
    const sel = useSelectionStore();
    expect(getCommand('run.stop')!.enabled!()).toBe(false);
    await runCommand('run.start');
    await until(() => run.status === 'done' && sel.state, 'the run');
    expect(sel.seq).toBe(7); // the first problem
    await runCommand('events.last');
    expect(sel.seq).toBe(40);
    await runCommand('events.prev');
    expect(sel.seq).toBe(39);
    await runCommand('events.first');
    expect(sel.seq).toBe(1);
    await runCommand('events.next');
    expect(sel.seq).toBe(2);
    await runCommand('events.nextProblem');
    expect(sel.seq).toBe(7);
    await runCommand('events.prevProblem');
    expect(sel.seq).toBe(35);
    await runCommand('events.select', 12);
    expect(sel.seq).toBe(12);
    useEventLogStore().filters.problemsOnly = true;
    await nextTick();
    await runCommand('events.next');
    expect(sel.seq).toBe(14);

    const insp = useInspectorStore();
    const v = insp.validOnly;
    await runCommand('inspector.toggleValidOnly');
    expect(insp.validOnly).toBe(!v);

    await runCommand('kernel.4.2');
    expect(run.kernel).toBe('4.2');
    await runCommand('kernel.mainline');
    expect(run.kernel).toBe('mainline');

    await runCommand('view.palette');
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
    expect(getCommand('run.stop')!.enabled!()).toBe(false); // the fake's 40-event run is already over
    const { useWorkspaceStore } = await import('../../renderer/src/stores/workspace');
    useWorkspaceStore().setText('while (true) {}\n');
    await runCommand('run.start');
    await until(() => run.rowCount > 0, 'rows');
    expect(getCommand('run.start')!.enabled!()).toBe(false);
    await runCommand('run.stop');
    await until(() => run.status === 'done', 'the stop');
    expect(run.summary?.error?.kind).toBe('stopped');
  });
});
