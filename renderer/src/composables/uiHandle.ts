/**
 * `window.dmawbUi`: the stable handle end-to-end tests and benchmarks drive the app with — commands by
 * id (the same ones the keyboard, the palette and the menu run) and a plain read-out of what is shown.
 */
import { nextTick } from 'vue';
import { commandList, runCommand, type CommandHandle } from './commands';
import { useInspectorStore } from '../stores/inspector';
import { useRunStore } from '../stores/run';
import { useSelectionStore } from '../stores/selection';
import { useWorkspaceStore } from '../stores/workspace';
import { useAppStore } from '../stores/app';
import { useCompareStore } from '../stores/compare';

export function installUiHandle(): () => void {
  const run = useRunStore();
  const sel = useSelectionStore();
  const insp = useInspectorStore();
  const ws = useWorkspaceStore();
  const app = useAppStore();
  const cmp = useCompareStore();
  const handle: CommandHandle = {
    run: (id, arg) => runCommand(id, arg),
    list: () => commandList.value.map((c) => ({ id: c.id, title: c.title, keys: c.keys ?? [] })),
    state: () => ({
      ready: app.ready,
      mode: app.info?.mode ?? null,
      openFile: ws.openName,
      dirty: ws.dirty.map((b) => b.name),
      saveErrors: ws.saveErrors.map((b) => `${b.name}: ${b.error}`),
      restored: [...ws.restored],
      status: run.status,
      source: run.source,
      rows: run.rowCount,
      problems: { ...run.problems },
      seq: sel.seq,
      window: insp.window
        ? {
            container: insp.window.container,
            slot: insp.window.slot,
            entries: insp.window.entries,
            valid: insp.window.valid,
          }
        : null,
      total: insp.total,
      validOnly: insp.validOnly,
      pids: [...run.pids],
      compare: {
        view: cmp.view,
        loading: cmp.loading || cmp.profilesRunning,
        lines: cmp.lines.length,
        firstDivergence: cmp.profiles?.firstDivergence ?? null,
      },
    }),
    settled: async () => {
      await run.whenLoaded();
      await sel.whenReady();
      await nextTick();
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    },
  };
  window.dmawbUi = handle;
  return () => {
    if (window.dmawbUi === handle) delete window.dmawbUi;
  };
}
