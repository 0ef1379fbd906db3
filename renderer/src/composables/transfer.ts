/**
 * Exports and imports. An export asks the host for the file's text, then saves it: through the desktop
 * save dialog (file.saveAs), or — in browser mode, or when file.saveAs is refused — as a download. An
 * import reads a file through the desktop open dialog (file.open) or a file input in browser mode.
 */
import { call, errorMessage, tryCall } from '../bridge/api';
import { useAppStore } from '../stores/app';
import { useNoticesStore } from '../stores/notices';
import { useRunStore } from '../stores/run';
import { useSelectionStore } from '../stores/selection';
import { useSettingsStore } from '../stores/settings';
import { useInspectorStore } from '../stores/inspector';
import { useWorkspaceStore } from '../stores/workspace';

export const IMPORT_LIMIT = 64 * 1024 * 1024;

export type ExportKind = 'snapshot' | 'report' | 'csv';

/** Offers text as a file download (browser mode). */
export function download(name: string, text: string, mime = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const MIME: Record<ExportKind, string> = {
  snapshot: 'application/json',
  report: 'text/markdown',
  csv: 'text/csv',
};

/** Saves text where the user wants it; returns where (a path, 'download') or null if cancelled. */
export async function saveText(name: string, text: string, mime: string): Promise<string | null> {
  if (useAppStore().info?.mode !== 'browser') {
    const r = await tryCall('file.saveAs', { suggestedName: name, text });
    if (r.ok) return 'path' in r.value ? r.value.path : null;
  }
  download(name, text, mime);
  return 'download';
}

export async function exportKind(kind: ExportKind): Promise<string | null> {
  const run = useRunStore();
  const sel = useSelectionStore();
  const notices = useNoticesStore();
  const source = run.source;
  const seq = sel.seq ?? run.maxSeq;
  if (!source) {
    notices.push('info', 'Nothing to export yet: run a scenario or import a snapshot first.', 'export');
    return null;
  }
  try {
    let file: { suggestedName: string; text: string };
    if (kind === 'snapshot')
      file = await call('export.snapshot', {
        source,
        seq,
        includeEvents: useSettingsStore().snapshotIncludesEvents,
      });
    else if (kind === 'report') file = await call('export.report', { source, seq });
    else {
      const w = useInspectorStore().window;
      if (!w) {
        notices.push('info', 'Pick a window in the inspector to export its entries as CSV.', 'export');
        return null;
      }
      file = await call('export.csv', { source, seq, container: w.container, slot: w.slot as 0 | 1 });
    }
    const where = await saveExport(file, MIME[kind]);
    return where;
  } catch (e) {
    notices.push('error', `Export failed: ${errorMessage(e)}`, 'export');
    return null;
  }
}

/**
 * Export as C program (scenario-api.md §4.3): the open scenario, run once more under the selected kernel
 * profile by the engine, as a program that replays it on a real host. Saved like the other exports.
 */
export async function exportCProgram(): Promise<string | null> {
  const buf = useWorkspaceStore().current;
  const notices = useNoticesStore();
  if (!buf) {
    notices.push('info', 'Open a scenario to export it as a C program.', 'export');
    return null;
  }
  try {
    const file = await call('export.c', {
      source: buf.text,
      filename: buf.name,
      kernel: useSettingsStore().kernel,
    });
    const where = await saveExport(file, 'text/x-c');
    return where;
  } catch (e) {
    notices.push('error', `Export failed: ${errorMessage(e)}`, 'export');
    return null;
  }
}

/** Saves an exported file (dialog or download) and says where it went. */
async function saveExport(file: { suggestedName: string; text: string }, mime: string) {
  const where = await saveText(file.suggestedName, file.text, mime);
  if (where)
    useNoticesStore().push(
      'info',
      where === 'download' ? `Downloaded ${file.suggestedName}` : `Saved ${where}`,
      'export',
    );
  return where;
}

/** Opens a file chooser in the page (browser mode); resolves with the chosen file or null. */
export function pickFile(accept = '.json,application/json'): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.style.display = 'none';
    input.dataset.testid = 'import-file';
    input.addEventListener('change', () => {
      resolve(input.files?.[0] ?? null);
      input.remove();
    });
    input.addEventListener('cancel', () => {
      resolve(null);
      input.remove();
    });
    document.body.appendChild(input);
    input.click();
  });
}

/** Reads a chosen file and imports it; too large files are refused before reading. */
export async function importFile(file: File): Promise<boolean> {
  if (file.size > IMPORT_LIMIT) {
    useNoticesStore().push(
      'error',
      `Import of ${file.name} refused: ${file.size} bytes is larger than the 64 MiB import limit`,
      'import',
    );
    return false;
  }
  return useRunStore().importSnapshot(await file.text(), file.name);
}

export async function importSnapshot(): Promise<boolean> {
  if (useAppStore().info?.mode !== 'browser') {
    const r = await tryCall('file.open', {});
    if (r.ok) {
      if ('cancelled' in r.value) return false;
      return useRunStore().importSnapshot(r.value.text, r.value.name);
    }
  }
  const file = await pickFile();
  return file ? importFile(file) : false;
}
