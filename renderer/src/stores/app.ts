/**
 * The app shell: what the host says about itself (app.info), the connection to it, and start-up.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
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
  /**
   * browser mode: the server answers but refuses this page's token — it was restarted (a new token per
   * start), so reconnecting can never succeed; the page offers to paste the new URL instead
   */
  const tokenRejected = ref(false);
  let probing = false;

  /** asks the server for this page's URL: 403 means it is up but has another token */
  async function probeToken(): Promise<void> {
    if (probing || typeof fetch === 'undefined' || typeof location === 'undefined') return;
    probing = true;
    try {
      const r = await fetch(location.href, { cache: 'no-store', credentials: 'omit' });
      tokenRejected.value = r.status === 403;
    } catch {
      tokenRejected.value = false; // down, not restarted (yet): keep reconnecting
    } finally {
      probing = false;
    }
  }

  /** Subscribes to the host and loads the workspace; the default scenario opens in the editor. */
  async function start(): Promise<void> {
    const notices = useNoticesStore();
    const bridge = getBridge();
    const run = useRunStore();
    const sel = useSelectionStore();
    run.init();
    // the selection follows the run: a new source clears it, a finished run or import selects its default step
    offRun.forEach((f) => f());
    // (a run with problems stops on the first one, as a debugger stops on the exception)
    offRun = [
      run.onCleared(() => sel.clear()),
      run.onLanded((seq) => {
        const first = run.origin?.kind === 'run' ? run.problemSeqs[0] : undefined;
        return first !== undefined ? sel.select(first) : sel.selectDefault(seq);
      }),
    ];
    // the desktop menu hands its items to the command registry (ids of the table in common/commands.ts)
    bridge.on('command.run', ({ id }) => {
      runCommand(id).catch((e) => notices.push('error', `Menu command ${id}: ${errorMessage(e)}`, 'menu'));
    });
    let wasDown = false;
    bridge.onConnection?.((s) => {
      connection.value = s;
      if (s === 'open') tokenRejected.value = false;
      else if (s === 'closed' && info.value?.mode === 'browser') void probeToken();
      if (s === 'closed' && ready.value) {
        wasDown = true; // ReconnectBar.vue says so, and offers the unsaved edits
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

  /** whether the engine can be reached now (Run and the other engine commands need it) */
  const reachable = computed(() => connection.value === 'open');

  return { info, connection, reachable, tokenRejected, ready, startError, start, probeToken };
});
