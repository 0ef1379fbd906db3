/**
 * The one table of the workbench's commands: id, label, keys, menu placement and when the command
 * applies. Everything else derives from it — the renderer's command registry
 * (renderer/src/composables/appCommands.ts supplies one handler per id), the command palette, the
 * keyboard shortcuts, the desktop application menu (main/menu.ts; a chosen item is sent to the renderer
 * on the 'command.run' event of common/contract.ts) and the end-to-end tests (`window.dmawbUi.run(id)`).
 *
 * Ids are dotted (`area.action`) and stable: never rename one. The dashed ids of earlier releases still
 * run through COMMAND_ALIASES. Imports nothing.
 *
 * Keys are written like `Mod+Shift+P`: Mod is Cmd on macOS and Ctrl elsewhere; the last part is
 * KeyboardEvent.key (letters upper-case), e.g. `F5`, `Enter`, `ArrowDown`, `.`. The menu shows a
 * command's first key (menuAccelerator).
 */

/** The named conditions a command can depend on; the renderer decides each (appCommands.ts). */
export type CommandWhen =
  /** a scenario is open, no run is going and the engine is reachable */
  | 'canRun'
  /** a run is going */
  | 'running'
  /** a scenario is open in the editor */
  | 'hasScenario'
  /** a run or import has produced a source (possibly still streaming) */
  | 'hasSource'
  /** a source is shown and no run is going */
  | 'hasResult'
  /** hasResult, and the result has problems */
  | 'hasProblems'
  /** hasResult, and the inspector shows a window */
  | 'hasWindow'
  /** an event of a run (not of an imported snapshot) is selected */
  | 'hasEventLine'
  /** a scenario is open and no profile comparison is running */
  | 'canCompareProfiles'
  /** a comparison view is open */
  | 'comparing'
  /** a scenario is open, no memlock sizing is going and the engine is reachable */
  | 'canSizeMemlock'
  /** a memlock sizing is going */
  | 'sizingMemlock'
  /** the Memlock panel is open */
  | 'memlockOpen'
  /** the desktop app (not browser mode) */
  | 'desktop';

export type CommandCategory =
  'File' | 'Run' | 'Events' | 'Inspector' | 'Compare' | 'View' | 'Settings' | 'Help';

/** The desktop application menus a command can appear in (editing, view and window menus are roles). */
export type CommandMenu = 'file' | 'run' | 'help';

export interface CommandSpec {
  id: string;
  /** the palette's title (and the menu's label unless `menu.label` says otherwise) */
  label: string;
  category: CommandCategory;
  /** key chords that run it, the first one shown in the menu */
  keys?: readonly string[];
  /** where the desktop menu shows it: items of one menu appear in table order, a separator between groups */
  menu?: { menu: CommandMenu; group: number; label?: string };
  /** when it applies; without one it always does */
  when?: CommandWhen;
  /** it takes an argument: the palette asks for it with this prompt */
  arg?: string;
}

export const COMMANDS = [
  // File
  {
    id: 'scenario.new',
    label: 'New scenario',
    category: 'File',
    keys: ['Alt+N'],
    menu: { menu: 'file', group: 1, label: 'New Scenario…' },
  },
  {
    id: 'file.open',
    label: 'Open scenario file…',
    category: 'File',
    menu: { menu: 'file', group: 1, label: 'Open File…' },
  },
  { id: 'file.save', label: 'Save now', category: 'File', keys: ['Mod+S'] },
  {
    id: 'file.saveAs',
    label: 'Save scenario as…',
    category: 'File',
    keys: ['Mod+Shift+S'],
    menu: { menu: 'file', group: 1, label: 'Save Scenario As…' },
    when: 'hasScenario',
  },
  {
    id: 'workspace.choose',
    label: 'Choose workspace folder…',
    category: 'File',
    menu: { menu: 'file', group: 2, label: 'Choose Workspace Folder…' },
    when: 'desktop',
  },
  {
    id: 'snapshot.import',
    label: 'Import snapshot…',
    category: 'File',
    keys: ['Mod+O'],
    menu: { menu: 'file', group: 3, label: 'Import Snapshot…' },
  },
  {
    id: 'capture.import',
    label: 'Import capture… (QEMU trace, error lines, dmesg, strace → a scenario that checks them)',
    category: 'File',
    menu: { menu: 'file', group: 3, label: 'Import Capture…' },
  },
  {
    id: 'export.snapshot',
    label: 'Export snapshot of the selected step',
    category: 'File',
    keys: ['Mod+Shift+E'],
    menu: { menu: 'file', group: 3, label: 'Export Snapshot…' },
    when: 'hasResult',
  },
  {
    id: 'export.report',
    label: 'Export Markdown report',
    category: 'File',
    menu: { menu: 'file', group: 3, label: 'Export Report…' },
    when: 'hasResult',
  },
  {
    id: 'export.csv',
    label: "Export the window's entries as CSV",
    category: 'File',
    menu: { menu: 'file', group: 3, label: 'Export Window as CSV…' },
    when: 'hasWindow',
  },
  {
    id: 'export.c',
    label: 'Export as C program… (the scenario for a real host)',
    category: 'File',
    menu: { menu: 'file', group: 3, label: 'Export as C Program…' },
    when: 'hasScenario',
  },

  // Run
  {
    id: 'run.start',
    label: 'Run scenario',
    category: 'Run',
    keys: ['F5', 'Mod+Enter'],
    menu: { menu: 'run', group: 1, label: 'Run' },
    // while the engine is unreachable a run could only fail: the last results stay on screen instead
    when: 'canRun',
  },
  {
    id: 'run.stop',
    label: 'Stop run',
    category: 'Run',
    keys: ['Shift+F5', 'Mod+.'],
    menu: { menu: 'run', group: 1, label: 'Stop' },
    when: 'running',
  },
  {
    id: 'kernel.4.2',
    label: 'Kernel profile: 4.2',
    category: 'Run',
    menu: { menu: 'run', group: 2, label: 'Kernel 4.2' },
  },
  {
    id: 'kernel.5.x',
    label: 'Kernel profile: 5.x',
    category: 'Run',
    menu: { menu: 'run', group: 2, label: 'Kernel 5.x' },
  },
  {
    id: 'kernel.mainline',
    label: 'Kernel profile: mainline',
    category: 'Run',
    menu: { menu: 'run', group: 2, label: 'Kernel mainline' },
  },
  { id: 'kernel.next', label: 'Next kernel profile (4.2 → 5.x → mainline → 4.2)', category: 'Run' },
  {
    id: 'compare.profiles',
    label: 'Compare kernel profiles (run under two profiles; default 4.2 and mainline)',
    category: 'Compare',
    menu: { menu: 'run', group: 2, label: 'Compare Kernel Profiles' },
    when: 'canCompareProfiles',
  },
  {
    id: 'memlock.size',
    label: 'Memlock… size memlock: the RLIMIT_MEMLOCK each process needs, verified',
    category: 'Run',
    menu: { menu: 'run', group: 3, label: 'Size Memlock…' },
    when: 'canSizeMemlock',
  },
  { id: 'memlock.stop', label: 'Stop the memlock sizing', category: 'Run', when: 'sizingMemlock' },
  { id: 'memlock.close', label: 'Close the Memlock panel', category: 'Run', when: 'memlockOpen' },

  // Events
  {
    id: 'events.next',
    label: 'Select next event',
    category: 'Events',
    keys: ['Alt+ArrowDown'],
    when: 'hasResult',
  },
  {
    id: 'events.prev',
    label: 'Select previous event',
    category: 'Events',
    keys: ['Alt+ArrowUp'],
    when: 'hasResult',
  },
  {
    id: 'events.first',
    label: 'Select first event',
    category: 'Events',
    keys: ['Alt+Home'],
    when: 'hasResult',
  },
  {
    id: 'events.last',
    label: 'Select last event (end of run)',
    category: 'Events',
    keys: ['Alt+End'],
    when: 'hasResult',
  },
  {
    id: 'events.nextProblem',
    label: 'Go to next problem',
    category: 'Events',
    keys: ['F8'],
    when: 'hasProblems',
  },
  {
    id: 'events.prevProblem',
    label: 'Go to previous problem',
    category: 'Events',
    keys: ['Shift+F8'],
    when: 'hasProblems',
  },
  {
    id: 'events.select',
    label: 'Select event by seq',
    category: 'Events',
    when: 'hasSource',
    arg: 'Event seq (a number)',
  },
  {
    id: 'events.revealLine',
    label: "Show the selected event's line in the editor",
    category: 'Events',
    when: 'hasEventLine',
  },
  { id: 'eventLog.toggleProblemsOnly', label: 'Event log: show only problems', category: 'Events' },
  { id: 'eventLog.clearFilters', label: 'Event log: clear filters', category: 'Events' },

  // Inspector
  {
    id: 'inspector.toggleValidOnly',
    label: 'Inspector: show only valid entries',
    category: 'Inspector',
    keys: ['Alt+V'],
  },
  {
    id: 'inspector.focusJump',
    label: 'Inspector: jump to IOVA or address…',
    category: 'Inspector',
    keys: ['Mod+J'],
  },
  {
    id: 'inspector.jump',
    label: 'Inspector: jump to',
    category: 'Inspector',
    arg: 'IOVA, bus address or entry index (e.g. 0x8000000000000000)',
  },

  // Compare
  {
    id: 'compare.withPrevious',
    label: 'Compare… (the selected step with the previous event, or another step)',
    category: 'Compare',
    when: 'hasResult',
  },
  {
    id: 'compare.steps',
    label: 'Compare two steps',
    category: 'Compare',
    when: 'hasSource',
    arg: 'Two event seqs of the shown run, e.g. "12 30"',
  },
  { id: 'compare.close', label: 'Close the comparison', category: 'Compare', when: 'comparing' },

  // View
  { id: 'view.palette', label: 'Command palette', category: 'View', keys: ['Mod+Shift+P', 'F1'] },
  { id: 'view.focusEditor', label: 'Focus editor', category: 'View', keys: ['Mod+E'] },
  { id: 'view.focusEventLog', label: 'Focus event log', category: 'View', keys: ['Mod+Shift+L'] },
  { id: 'view.focusNextPane', label: 'Focus next pane', category: 'View', keys: ['F6'] },
  { id: 'view.focusPrevPane', label: 'Focus previous pane', category: 'View', keys: ['Shift+F6'] },
  {
    id: 'view.toggleMaximizePane',
    label: 'Maximise the focused pane (or restore)',
    category: 'View',
    keys: ['Mod+Shift+M'],
  },
  { id: 'view.resetLayout', label: 'Reset the layout (pane sizes)', category: 'View' },
  {
    id: 'view.closeOverlay',
    label: 'Close the open overlay (palette, menu, prompt)',
    category: 'View',
    keys: ['Escape'],
  },
  {
    id: 'editor.toggleTabFocus',
    label: 'Toggle Tab key moves focus (editor tab-focus mode)',
    category: 'View',
    keys: ['Mod+M'],
  },

  // Settings
  {
    id: 'settings.toggleSnapshotEvents',
    label: 'Settings: exported snapshots include the event log (on/off)',
    category: 'Settings',
  },
  { id: 'settings.editorFontBigger', label: 'Settings: larger editor font', category: 'Settings' },
  { id: 'settings.editorFontSmaller', label: 'Settings: smaller editor font', category: 'Settings' },
  { id: 'settings.reset', label: 'Settings: reset to defaults', category: 'Settings' },

  // Help
  {
    id: 'help.reference',
    label: 'Kernel reference (what each kernel function the whys cite checks, returns and charges)',
    category: 'Help',
    menu: { menu: 'help', group: 1, label: 'Kernel Reference' },
  },
  {
    id: 'help.about',
    label: 'About DMA Workbench',
    category: 'Help',
    menu: { menu: 'help', group: 1 },
  },
] as const satisfies readonly CommandSpec[];

export type CommandId = (typeof COMMANDS)[number]['id'];

/**
 * The dashed ids of earlier releases (users' scripts and muscle memory call `window.dmawbUi.run('run')`):
 * each still runs the dotted command it names. Compatibility only — new code and tests use the dotted ids.
 */
export const COMMAND_ALIASES: Readonly<Record<string, CommandId>> = {
  run: 'run.start',
  stop: 'run.stop',
  'kernel-4.2': 'kernel.4.2',
  'kernel-5.x': 'kernel.5.x',
  'kernel-mainline': 'kernel.mainline',
  'toggle-kernel': 'kernel.next',
  'select-next-event': 'events.next',
  'select-prev-event': 'events.prev',
  'select-first-event': 'events.first',
  'select-last-event': 'events.last',
  'select-next-problem': 'events.nextProblem',
  'select-prev-problem': 'events.prevProblem',
  'select-event': 'events.select',
  'reveal-event-line': 'events.revealLine',
  'toggle-problems-only': 'eventLog.toggleProblemsOnly',
  'clear-filters': 'eventLog.clearFilters',
  'toggle-valid-only': 'inspector.toggleValidOnly',
  'focus-jump': 'inspector.focusJump',
  jump: 'inspector.jump',
  'export-snapshot': 'export.snapshot',
  'export-report': 'export.report',
  'export-csv': 'export.csv',
  'export-c': 'export.c',
  'import-snapshot': 'snapshot.import',
  'import-capture': 'capture.import',
  'new-scenario': 'scenario.new',
  save: 'file.save',
  'save-scenario-as': 'file.saveAs',
  'open-scenario-file': 'file.open',
  'choose-workspace': 'workspace.choose',
  about: 'help.about',
  compare: 'compare.withPrevious',
  'compare-steps': 'compare.steps',
  'compare-profiles': 'compare.profiles',
  'close-compare': 'compare.close',
  'open-palette': 'view.palette',
  'focus-editor': 'view.focusEditor',
  'focus-event-log': 'view.focusEventLog',
  'focus-next-pane': 'view.focusNextPane',
  'focus-prev-pane': 'view.focusPrevPane',
  'toggle-maximize-pane': 'view.toggleMaximizePane',
  'reset-layout': 'view.resetLayout',
  'close-overlay': 'view.closeOverlay',
  'toggle-tab-focus': 'editor.toggleTabFocus',
  'toggle-snapshot-events': 'settings.toggleSnapshotEvents',
  'editor-font-bigger': 'settings.editorFontBigger',
  'editor-font-smaller': 'settings.editorFontSmaller',
  'reset-settings': 'settings.reset',
};

const BY_ID: ReadonlyMap<string, CommandSpec> = new Map(COMMANDS.map((c) => [c.id, c]));

export function isCommandId(id: unknown): id is CommandId {
  return typeof id === 'string' && BY_ID.has(id);
}

export function commandSpec(id: CommandId): CommandSpec {
  return BY_ID.get(id)!;
}

/** The dotted id an id or a compatibility alias names, or undefined. */
export function resolveCommandId(id: string): CommandId | undefined {
  if (isCommandId(id)) return id;
  return Object.prototype.hasOwnProperty.call(COMMAND_ALIASES, id) ? COMMAND_ALIASES[id] : undefined;
}

/** The commands the desktop menu shows. */
export type MenuCommandId = Extract<(typeof COMMANDS)[number], { menu: object }>['id'];

/** Menu label of each command the desktop menu shows. */
export const MENU_COMMANDS: Readonly<Record<MenuCommandId, string>> = Object.fromEntries(
  COMMANDS.flatMap((c: CommandSpec) => (c.menu ? [[c.id, c.menu.label ?? c.label]] : [])),
) as Record<MenuCommandId, string>;

export function isMenuCommand(id: unknown): id is MenuCommandId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(MENU_COMMANDS, id);
}

/** One menu's commands in table order, split into groups (the menu puts a separator between them). */
export function menuGroups(menu: CommandMenu): MenuCommandId[][] {
  const groups = new Map<number, MenuCommandId[]>();
  for (const c of COMMANDS as readonly CommandSpec[]) {
    if (c.menu?.menu !== menu) continue;
    const g = groups.get(c.menu.group) ?? [];
    g.push(c.id as MenuCommandId);
    groups.set(c.menu.group, g);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, ids]) => ids);
}

/** The Electron accelerator of a command's first key (`Mod+Shift+E` → `CmdOrCtrl+Shift+E`), if any. */
export function menuAccelerator(id: CommandId): string | undefined {
  const k = commandSpec(id).keys?.[0];
  if (!k) return undefined;
  return k
    .split('+')
    .map((p) => (p === 'Mod' ? 'CmdOrCtrl' : p === 'Escape' ? 'Esc' : p.replace(/^Arrow/, '')))
    .join('+');
}
