/**
 * The app shell: what the host says about itself (app.info), the connection to it, and start-up.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Responses } from '../../../common/contract';
import { call, errorMessage, getBridge, type ConnectionState } from '../bridge/api';
import { runCommand } from '../composables/commands';
import { useNoticesStore } from './notices';
import { useRunStore } from './run';
import { useSelectionStore } from './selection';
import { useWorkspaceStore } from './workspace';

export const useAppStore = defineStore('app', () => {
  const info = ref<Responses['app.info'] | null>(null);
  const connection = ref<ConnectionState>('open');
  const ready = ref(false);
  const startError = ref<string | null>(null);
  let offRun: (() => void)[] = [];

  /** Subscribes to the host and loads the workspace; the default scenario opens in the editor. */
  async function start(): Promise<void> {
    const notices = useNoticesStore();
    const bridge = getBridge();
    const run = useRunStore();
    const sel = useSelectionStore();
    run.init();
    // the selection follows the run: a new source clears it, a finished run or import selects its default step
    offRun.forEach((f) => f());
    offRun = [run.onCleared(() => sel.clear()), run.onLanded((seq) => sel.selectDefault(seq))];
    // the desktop menu hands its items to the command registry (ids of common/commands.ts are aliases)
    bridge.on('command.run', ({ id }) => {
      runCommand(id).catch((e) => notices.push('error', `Menu command ${id}: ${errorMessage(e)}`, 'menu'));
    });
    let wasDown = false;
    bridge.onConnection?.((s, detail) => {
      connection.value = s;
      if (s === 'closed' && ready.value) {
        wasDown = true;
        notices.push(
          'warning',
          `Lost the connection to the workbench server${detail ? ` (${detail})` : ''}; reconnecting… Your edits are kept.`,
          'connection',
        );
      } else if (s === 'open' && wasDown) {
        wasDown = false;
        notices.dismiss('connection');
        void useWorkspaceStore().flushAll();
      }
    });
    try {
      info.value = await call('app.info', {});
    } catch (e) {
      startError.value = errorMessage(e);
    }
    await useWorkspaceStore().load();
    ready.value = true;
  }

  return { info, connection, ready, startError, start };
});
