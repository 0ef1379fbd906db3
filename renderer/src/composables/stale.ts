/**
 * Whether the results on screen still describe what the user is looking at: a run belongs to one file
 * and one text. Switching to another file, or editing the one that ran, makes them stale (the panels dim
 * and a bar says so, App.vue / StaleBar.vue). Imported snapshots belong to no open file: never stale.
 */
import { computed } from 'vue';
import { useRunStore } from '../stores/run';
import { useWorkspaceStore } from '../stores/workspace';

export type Staleness = null | { reason: 'other-file' | 'edited'; file: string };

export function useStaleness() {
  const run = useRunStore();
  const ws = useWorkspaceStore();
  return computed<Staleness>(() => {
    const o = run.origin;
    if (!o || o.kind !== 'run' || run.running) return null;
    if (ws.openName !== o.filename) return { reason: 'other-file', file: o.filename };
    const b = ws.buffers[o.filename];
    if (b && run.ranText !== null && b.text !== run.ranText) return { reason: 'edited', file: o.filename };
    return null;
  });
}
