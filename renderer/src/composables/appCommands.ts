/**
 * The app's commands: one handler for each id of the command table (common/commands.ts), which gives
 * the label, keys, menu placement and the condition (`when`) it applies under. Ids are stable: the
 * menu, shortcuts, palette and tests depend on them.
 */
import { COMMANDS, type CommandId, type CommandWhen } from '../../../common/commands';
import { KERNEL_NAMES } from '../../../common/kernels';
import type { ProfileName } from '../../../common/contract';
import { defineCommands, type Command } from './commands';
import { exportCProgram, exportKind, importSnapshot, saveText } from './transfer';
import { importCapture } from './captureImport';
import { call, errorMessage, tryCall } from '../bridge/api';
import { useAppStore } from '../stores/app';
import { useNoticesStore } from '../stores/notices';
import {
  cyclePane,
  editorHandle,
  focusTestId,
  namingScenario,
  overflowOpen,
  paletteOpen,
  referenceAt,
} from './ui';
import { useLayoutStore, type PaneId } from '../stores/layout';
import { useCompareStore, type StepRef } from '../stores/compare';
import { useEventLogStore } from '../stores/eventLog';
import { useInspectorStore } from '../stores/inspector';
import { useMemlockStore } from '../stores/memlock';
import { useRunStore } from '../stores/run';
import { useSelectionStore } from '../stores/selection';
import { useSettingsStore } from '../stores/settings';
import { useWorkspaceStore } from '../stores/workspace';

export function registerAppCommands(): () => void {
  const run = useRunStore();
  const sel = useSelectionStore();
  const log = useEventLogStore();
  const insp = useInspectorStore();
  const ws = useWorkspaceStore();
  const app = useAppStore();
  const settings = useSettingsStore();
  const notices = useNoticesStore();
  const cmp = useCompareStore();
  const layout = useLayoutStore();
  const memlock = useMemlockStore();
  const untrack = cmp.track();
  /** the pane holding the focus */
  const focusedPane = (): PaneId | null =>
    (document.activeElement?.closest('[data-pane]')?.getAttribute('data-pane') as PaneId | null) ?? null;
  /** shows the selected event's scenario line in the editor (opening the file that ran) */
  const revealEventLine = async () => {
    const o = run.origin;
    const line = sel.seq !== null ? run.lineOf(sel.seq) : undefined;
    if (!o || o.kind !== 'run' || !line) return false;
    if (ws.openName !== o.filename) await ws.open(o.filename);
    if (layout.maximized && layout.maximized !== 'editor') layout.maximized = null;
    await new Promise((r) => setTimeout(r, 0));
    editorHandle.current?.revealLine(line, { focus: true, highlight: true });
    return true;
  };
  const hasResult = () => !!run.source && !run.running;
  const step = (dir: 1 | -1) => {
    const next = log.neighbour(sel.seq, dir);
    if (next !== null) return sel.select(next);
  };
  const problem = (dir: 1 | -1) => {
    const ps = run.problemSeqs;
    if (!ps.length) return;
    const cur = sel.seq ?? (dir === 1 ? -1 : Infinity);
    const next =
      dir === 1
        ? (ps.find((s) => s > cur) ?? ps[0])
        : ([...ps].reverse().find((s) => s < cur) ?? ps[ps.length - 1]);
    return sel.select(next!);
  };

  /** a scenario file from anywhere: copied into the workspace under a fresh name, then opened */
  const openScenarioFile = async () => {
    const r = await tryCall('file.open', {});
    if (!r.ok)
      return notices.push(
        'info',
        'Opening files from disk is only available in the desktop app; create a scenario and paste it instead.',
        'open',
      );
    if ('cancelled' in r.value) return;
    const base =
      r.value.name
        .replace(/^.*[\\/]/, '')
        .replace(/\.ts$/, '')
        .replace(/[^A-Za-z0-9._-]/g, '_') || 'scenario';
    const name = ws.files.some((f) => f.name === `${base}.ts`) ? ws.freshName(base) : `${base}.ts`;
    try {
      await ws.create(name, r.value.text);
    } catch (e) {
      notices.push('error', `Could not add ${name} to the workspace: ${errorMessage(e)}`, 'open');
    }
  };
  const chooseWorkspace = async () => {
    try {
      const r = await call('workspace.choose', {});
      if ('cancelled' in r) return;
      await ws.flushAll();
      ws.reset();
      await ws.load();
    } catch (e) {
      notices.push('error', `Could not change the workspace: ${errorMessage(e)}`, 'workspace');
    }
  };

  /** what each `when` of the table means here */
  const when: Record<CommandWhen, () => boolean> = {
    canRun: () => !run.running && !!ws.current && app.reachable,
    running: () => run.running,
    hasScenario: () => !!ws.current,
    hasSource: () => !!run.source,
    hasResult,
    hasProblems: () => hasResult() && run.problemSeqs.length > 0,
    hasWindow: () => hasResult() && !!insp.window,
    hasEventLine: () => sel.seq !== null && run.origin?.kind === 'run',
    canCompareProfiles: () => !!ws.current && !cmp.profilesRunning,
    comparing: () => cmp.view !== null,
    canSizeMemlock: () => !!ws.current && !memlock.running && app.reachable,
    sizingMemlock: () => memlock.running,
    memlockOpen: () => memlock.open,
    desktop: () => app.info?.mode !== 'browser',
  };
  /** an event seq typed in the palette */
  const seqOf = (text: string): number => {
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not an event seq: ${JSON.stringify(text)}`);
    return n;
  };

  /** what each command of the table does (and, for one taking an argument, how the palette's text becomes it) */
  const handlers: Record<CommandId, Pick<Command, 'run' | 'parseArg'>> = {
    'scenario.new': { run: () => void (namingScenario.value = true) },
    'file.open': { run: () => openScenarioFile() },
    'file.save': { run: () => ws.flushAll() },
    'file.saveAs': {
      run: () => ws.current && saveText(ws.current.name, ws.current.text, 'text/typescript'),
    },
    'workspace.choose': { run: () => chooseWorkspace() },
    'snapshot.import': { run: () => importSnapshot() },
    'capture.import': { run: () => importCapture() },
    'export.snapshot': { run: () => exportKind('snapshot') },
    'export.report': { run: () => exportKind('report') },
    'export.csv': { run: () => exportKind('csv') },
    'export.c': { run: () => exportCProgram() },

    'run.start': { run: () => run.start() },
    'run.stop': { run: () => run.stop() },
    'kernel.4.2': { run: () => void (run.kernel = '4.2') },
    'kernel.5.x': { run: () => void (run.kernel = '5.x') },
    'kernel.mainline': { run: () => void (run.kernel = 'mainline') },
    'kernel.next': {
      run: () =>
        void (run.kernel = KERNEL_NAMES[(KERNEL_NAMES.indexOf(run.kernel) + 1) % KERNEL_NAMES.length]!),
    },
    'compare.profiles': {
      run: (arg) => cmp.compareProfiles(arg as [ProfileName, ProfileName] | undefined),
    },

    'events.next': { run: () => step(1) },
    'events.prev': { run: () => step(-1) },
    'events.first': { run: () => sel.select(log.neighbour(null, 1) ?? 0) },
    'events.last': { run: () => sel.select(run.maxSeq) },
    'events.nextProblem': { run: () => problem(1) },
    'events.prevProblem': { run: () => problem(-1) },
    'events.select': { run: (seq) => sel.select(Number(seq)), parseArg: seqOf },
    'events.revealLine': { run: () => revealEventLine() },
    'eventLog.toggleProblemsOnly': { run: () => void (log.filters.problemsOnly = !log.filters.problemsOnly) },
    'eventLog.clearFilters': { run: () => log.reset() },

    'inspector.toggleValidOnly': { run: () => insp.setValidOnly(!insp.validOnly) },
    'inspector.focusJump': { run: () => focusTestId('tce-jump') },
    'inspector.jump': { run: (text) => insp.jump(String(text)), parseArg: (text) => text.trim() },

    'compare.withPrevious': { run: () => cmp.compareWithPrevious() },
    'compare.steps': {
      run: (arg) => {
        const { a, b } = arg as { a: StepRef; b: StepRef };
        return cmp.compare(a, b);
      },
      // two seqs of the source on screen
      parseArg: (text) => {
        const parts = text.trim().split(/[\s,]+/);
        if (parts.length !== 2) throw new Error('give two event seqs, e.g. "12 30"');
        const source = run.source!;
        return { a: { source, seq: seqOf(parts[0]!) }, b: { source, seq: seqOf(parts[1]!) } };
      },
    },
    'compare.close': { run: () => cmp.close() },
    'memlock.size': { run: () => memlock.size() },
    'memlock.stop': { run: () => memlock.stop() },
    'memlock.close': { run: () => memlock.close() },

    'view.palette': { run: () => void (paletteOpen.value = true) },
    'view.focusEditor': { run: () => focusTestId('scenario-editor') },
    'view.focusEventLog': { run: () => focusTestId('event-log') },
    'view.focusNextPane': { run: () => cyclePane(1) },
    'view.focusPrevPane': { run: () => cyclePane(-1) },
    'view.toggleMaximizePane': {
      run: () => {
        const p = focusedPane() ?? layout.maximized;
        if (p) layout.toggleMaximized(p);
      },
    },
    'view.resetLayout': { run: () => layout.reset() },
    'view.closeOverlay': {
      run: () => {
        if (paletteOpen.value) paletteOpen.value = false;
        else if (namingScenario.value) namingScenario.value = false;
        else if (overflowOpen.value) overflowOpen.value = false;
        else if (layout.maximized) layout.maximized = null;
        else return false;
        return true;
      },
    },
    'editor.toggleTabFocus': { run: () => editorHandle.current?.toggleTabFocusMode() },

    'settings.toggleSnapshotEvents': {
      run: () => void (settings.snapshotIncludesEvents = !settings.snapshotIncludesEvents),
    },
    'settings.editorFontBigger': {
      run: () => void (settings.editorFontSize = Math.min(24, settings.editorFontSize + 1)),
    },
    'settings.editorFontSmaller': {
      run: () => void (settings.editorFontSize = Math.max(9, settings.editorFontSize - 1)),
    },
    'settings.reset': { run: () => settings.reset() },

    'help.reference': {
      // the index of docs/kernel/ in the dock's Reference tab (a cite in the event detail opens its section)
      run: () => void (referenceAt.value = { page: 'README', anchor: '' }),
    },
    'help.about': {
      run: () =>
        notices.push(
          'info',
          app.info
            ? `${app.info.name} ${app.info.version} (${app.info.mode}) · workspace ${app.info.workspace}`
            : 'DMA Workbench',
          'about',
        ),
    },
  };

  const offCommands = defineCommands(
    COMMANDS.map((spec): Command => {
      const c: Command = { id: spec.id, title: spec.label, category: spec.category, ...handlers[spec.id] };
      if ('keys' in spec) c.keys = [...spec.keys];
      if ('when' in spec) c.enabled = when[spec.when];
      if ('arg' in spec) c.arg = spec.arg;
      return c;
    }),
  );
  return () => {
    offCommands();
    untrack();
  };
}
