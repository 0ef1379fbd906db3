/**
 * The app's commands. Ids are stable: the menu, shortcuts, palette and tests depend on them.
 */
import { KERNEL_NAMES } from '../../../common/kernels';
import type { ProfileName } from '../../../common/contract';
import { defineCommands } from './commands';
import { exportCProgram, exportKind, importSnapshot, saveText } from './transfer';
import { importCapture } from './captureImport';
import { call, errorMessage, tryCall } from '../bridge/api';
import { useAppStore } from '../stores/app';
import { useNoticesStore } from '../stores/notices';
import { cyclePane, editorHandle, focusTestId, namingScenario, overflowOpen, paletteOpen } from './ui';
import { useLayoutStore, type PaneId } from '../stores/layout';
import { useCompareStore, type StepRef } from '../stores/compare';
import { useEventLogStore } from '../stores/eventLog';
import { useInspectorStore } from '../stores/inspector';
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
  const untrack = cmp.track();
  /** the pane holding the focus */
  const focusedPane = (): PaneId | null =>
    (document.activeElement?.closest('[data-pane]')?.getAttribute('data-pane') as PaneId | null) ?? null;
  /** shows the selected event's scenario line in the editor (opening the file that ran) */
  const revealEventLine = async () => {
    const o = run.origin;
    const line = sel.seq !== null ? run.rowBySeq(sel.seq)?.line : undefined;
    if (!o || o.kind !== 'run' || !line) return false;
    if (ws.openName !== o.filename) await ws.open(o.filename);
    if (layout.maximized && layout.maximized !== 'editor') layout.maximized = null;
    await new Promise((r) => setTimeout(r, 0));
    editorHandle.current?.revealLine(line, { focus: true, highlight: true });
    return true;
  };
  const hasSource = () => !!run.source && !run.running;
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

  const offCommands = defineCommands([
    {
      id: 'run',
      aliases: ['run.start'],
      title: 'Run scenario',
      category: 'Run',
      keys: ['F5', 'Mod+Enter'],
      // while the engine is unreachable a run could only fail: the last results stay on screen instead
      enabled: () => !run.running && !!ws.current && app.reachable,
      run: () => run.start(),
    },
    {
      id: 'stop',
      aliases: ['run.stop'],
      title: 'Stop run',
      category: 'Run',
      keys: ['Shift+F5', 'Mod+.'],
      enabled: () => run.running,
      run: () => run.stop(),
    },
    {
      id: 'kernel-4.2',
      aliases: ['kernel.4.2'],
      title: 'Kernel profile: 4.2',
      category: 'Run',
      run: () => void (run.kernel = '4.2'),
    },
    {
      id: 'kernel-5.x',
      aliases: ['kernel.5.x'],
      title: 'Kernel profile: 5.x',
      category: 'Run',
      run: () => void (run.kernel = '5.x'),
    },
    {
      id: 'kernel-mainline',
      aliases: ['kernel.mainline'],
      title: 'Kernel profile: mainline',
      category: 'Run',
      run: () => void (run.kernel = 'mainline'),
    },
    {
      id: 'toggle-kernel',
      title: 'Next kernel profile (4.2 → 5.x → mainline → 4.2)',
      category: 'Run',
      run: () =>
        void (run.kernel = KERNEL_NAMES[(KERNEL_NAMES.indexOf(run.kernel) + 1) % KERNEL_NAMES.length]!),
    },

    {
      id: 'select-next-event',
      title: 'Select next event',
      category: 'Events',
      keys: ['Alt+ArrowDown'],
      enabled: hasSource,
      run: () => step(1),
    },
    {
      id: 'select-prev-event',
      title: 'Select previous event',
      category: 'Events',
      keys: ['Alt+ArrowUp'],
      enabled: hasSource,
      run: () => step(-1),
    },
    {
      id: 'select-first-event',
      title: 'Select first event',
      category: 'Events',
      keys: ['Alt+Home'],
      enabled: hasSource,
      run: () => sel.select(log.neighbour(null, 1) ?? 0),
    },
    {
      id: 'select-last-event',
      title: 'Select last event (end of run)',
      category: 'Events',
      keys: ['Alt+End'],
      enabled: hasSource,
      run: () => sel.select(run.maxSeq),
    },
    {
      id: 'select-next-problem',
      title: 'Go to next problem',
      category: 'Events',
      keys: ['F8'],
      enabled: () => hasSource() && run.problemSeqs.length > 0,
      run: () => problem(1),
    },
    {
      id: 'select-prev-problem',
      title: 'Go to previous problem',
      category: 'Events',
      keys: ['Shift+F8'],
      enabled: () => hasSource() && run.problemSeqs.length > 0,
      run: () => problem(-1),
    },
    {
      id: 'select-event',
      title: 'Select event by seq',
      category: 'Events',
      needsArg: true,
      enabled: () => !!run.source,
      run: (seq) => sel.select(Number(seq)),
    },
    {
      id: 'toggle-problems-only',
      title: 'Event log: show only problems',
      category: 'Events',
      run: () => void (log.filters.problemsOnly = !log.filters.problemsOnly),
    },
    { id: 'clear-filters', title: 'Event log: clear filters', category: 'Events', run: () => log.reset() },
    {
      id: 'focus-event-log',
      title: 'Focus event log',
      category: 'View',
      keys: ['Mod+Shift+L'],
      run: () => focusTestId('event-log'),
    },

    {
      id: 'toggle-valid-only',
      title: 'Inspector: show only valid entries',
      category: 'Inspector',
      keys: ['Alt+V'],
      run: () => insp.setValidOnly(!insp.validOnly),
    },
    {
      id: 'focus-jump',
      title: 'Inspector: jump to IOVA or address…',
      category: 'Inspector',
      keys: ['Mod+J'],
      run: () => focusTestId('tce-jump'),
    },
    {
      id: 'jump',
      title: 'Inspector: jump to',
      category: 'Inspector',
      needsArg: true,
      run: (text) => insp.jump(String(text)),
    },

    {
      id: 'export-snapshot',
      aliases: ['export.snapshot'],
      title: 'Export snapshot of the selected step',
      category: 'File',
      keys: ['Mod+Shift+E'],
      enabled: hasSource,
      run: () => exportKind('snapshot'),
    },
    {
      id: 'export-report',
      aliases: ['export.report'],
      title: 'Export Markdown report',
      category: 'File',
      enabled: hasSource,
      run: () => exportKind('report'),
    },
    {
      id: 'export-csv',
      aliases: ['export.csv'],
      title: "Export the window's entries as CSV",
      category: 'File',
      enabled: () => hasSource() && !!insp.window,
      run: () => exportKind('csv'),
    },
    {
      id: 'export-c',
      aliases: ['export.c'],
      title: 'Export as C program… (the scenario for a real host)',
      category: 'File',
      enabled: () => !!ws.current,
      run: () => exportCProgram(),
    },
    {
      id: 'import-snapshot',
      aliases: ['snapshot.import'],
      title: 'Import snapshot…',
      category: 'File',
      keys: ['Mod+O'],
      run: () => importSnapshot(),
    },
    {
      id: 'import-capture',
      aliases: ['capture.import'],
      title: 'Import capture… (QEMU trace, error lines, dmesg, strace → a scenario that checks them)',
      category: 'File',
      run: () => importCapture(),
    },
    {
      id: 'new-scenario',
      aliases: ['scenario.new'],
      title: 'New scenario',
      category: 'File',
      keys: ['Alt+N'],
      run: () => void (namingScenario.value = true),
    },
    { id: 'save', title: 'Save now', category: 'File', keys: ['Mod+S'], run: () => ws.flushAll() },
    {
      id: 'save-scenario-as',
      aliases: ['file.saveAs'],
      title: 'Save scenario as…',
      category: 'File',
      enabled: () => !!ws.current,
      run: () => ws.current && saveText(ws.current.name, ws.current.text, 'text/typescript'),
    },
    {
      id: 'open-scenario-file',
      aliases: ['file.open'],
      title: 'Open scenario file…',
      category: 'File',
      run: () => openScenarioFile(),
    },
    {
      id: 'choose-workspace',
      aliases: ['workspace.choose'],
      title: 'Choose workspace folder…',
      category: 'File',
      enabled: () => app.info?.mode !== 'browser',
      run: () => chooseWorkspace(),
    },
    {
      id: 'about',
      aliases: ['help.about'],
      title: 'About DMA Workbench',
      category: 'Help',
      run: () =>
        notices.push(
          'info',
          app.info
            ? `${app.info.name} ${app.info.version} (${app.info.mode}) · workspace ${app.info.workspace}`
            : 'DMA Workbench',
          'about',
        ),
    },
    {
      id: 'compare',
      title: 'Compare… (the selected step with the previous event, or another step)',
      category: 'Compare',
      enabled: hasSource,
      run: () => cmp.compareWithPrevious(),
    },
    {
      id: 'compare-steps',
      title: 'Compare two steps',
      category: 'Compare',
      needsArg: true,
      enabled: () => !!run.source,
      run: (arg) => {
        const { a, b } = arg as { a: StepRef; b: StepRef };
        return cmp.compare(a, b);
      },
    },
    {
      id: 'compare-profiles',
      aliases: ['compare.profiles'],
      title: 'Compare kernel profiles (run under two profiles; default 4.2 and mainline)',
      category: 'Compare',
      enabled: () => !!ws.current && !cmp.profilesRunning,
      run: (arg) => cmp.compareProfiles(arg as [ProfileName, ProfileName] | undefined),
    },
    {
      id: 'close-compare',
      title: 'Close the comparison',
      category: 'Compare',
      enabled: () => cmp.view !== null,
      run: () => cmp.close(),
    },

    {
      id: 'open-palette',
      title: 'Command palette',
      category: 'View',
      keys: ['Mod+Shift+P', 'F1'],
      run: () => void (paletteOpen.value = true),
    },
    {
      id: 'toggle-snapshot-events',
      title: 'Settings: exported snapshots include the event log (on/off)',
      category: 'Settings',
      run: () => void (settings.snapshotIncludesEvents = !settings.snapshotIncludesEvents),
    },
    {
      id: 'editor-font-bigger',
      title: 'Settings: larger editor font',
      category: 'Settings',
      run: () => void (settings.editorFontSize = Math.min(24, settings.editorFontSize + 1)),
    },
    {
      id: 'editor-font-smaller',
      title: 'Settings: smaller editor font',
      category: 'Settings',
      run: () => void (settings.editorFontSize = Math.max(9, settings.editorFontSize - 1)),
    },
    {
      id: 'reset-settings',
      title: 'Settings: reset to defaults',
      category: 'Settings',
      run: () => settings.reset(),
    },
    {
      id: 'reveal-event-line',
      title: "Show the selected event's line in the editor",
      category: 'Events',
      enabled: () => sel.seq !== null && run.origin?.kind === 'run',
      run: () => revealEventLine(),
    },
    {
      id: 'toggle-tab-focus',
      title: 'Toggle Tab key moves focus (editor tab-focus mode)',
      category: 'View',
      keys: ['Mod+M'],
      run: () => editorHandle.current?.toggleTabFocusMode(),
    },
    {
      id: 'focus-next-pane',
      title: 'Focus next pane',
      category: 'View',
      keys: ['F6'],
      run: () => cyclePane(1),
    },
    {
      id: 'focus-prev-pane',
      title: 'Focus previous pane',
      category: 'View',
      keys: ['Shift+F6'],
      run: () => cyclePane(-1),
    },
    {
      id: 'toggle-maximize-pane',
      title: 'Maximise the focused pane (or restore)',
      category: 'View',
      keys: ['Mod+Shift+M'],
      run: () => {
        const p = focusedPane() ?? layout.maximized;
        if (p) layout.toggleMaximized(p);
      },
    },
    {
      id: 'reset-layout',
      title: 'Reset the layout (pane sizes)',
      category: 'View',
      run: () => layout.reset(),
    },
    {
      id: 'close-overlay',
      title: 'Close the open overlay (palette, menu, prompt)',
      category: 'View',
      keys: ['Escape'],
      run: () => {
        if (paletteOpen.value) paletteOpen.value = false;
        else if (namingScenario.value) namingScenario.value = false;
        else if (overflowOpen.value) overflowOpen.value = false;
        else if (layout.maximized) layout.maximized = null;
        else return false;
        return true;
      },
    },
    {
      id: 'focus-editor',
      title: 'Focus editor',
      category: 'View',
      keys: ['Mod+E'],
      run: () => focusTestId('scenario-editor'),
    },
  ]);
  return () => {
    offCommands();
    untrack();
  };
}
