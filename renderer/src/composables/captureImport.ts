/**
 * Import capture… (`dmawb import` in the workbench, scenario-api.md §4.2): the capture comes from the
 * desktop open dialog (file.open) or, in browser mode, an upload (several files at once: QEMU's log,
 * dmesg, strace); the engine host turns it into a scenario (capture.import), which is written into the
 * workspace under a fresh name and opened. Problems found in the capture are shown as a notice; the
 * scenario's header lists them too.
 */
import { errorMessage, tryCall } from '../bridge/api';
import { useAppStore } from '../stores/app';
import { useNoticesStore } from '../stores/notices';
import { useWorkspaceStore } from '../stores/workspace';
import { IMPORT_LIMIT } from './transfer';

/** Opens a file chooser for one or more captures (browser mode). */
function pickCaptures(): Promise<File[]> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.style.display = 'none';
    input.dataset.testid = 'import-capture-file';
    input.addEventListener('change', () => {
      resolve([...(input.files ?? [])]);
      input.remove();
    });
    input.addEventListener('cancel', () => {
      resolve([]);
      input.remove();
    });
    document.body.appendChild(input);
    input.click();
  });
}

/** Reads uploaded captures (refusing oversized ones before reading) and imports them. */
export async function importCaptureFiles(files: File[]): Promise<boolean> {
  const notices = useNoticesStore();
  const big = files.find((f) => f.size > IMPORT_LIMIT);
  if (big) {
    notices.push(
      'error',
      `Import of ${big.name} refused: ${big.size} bytes is larger than the 64 MiB import limit`,
      'import',
    );
    return false;
  }
  return importCaptureTexts(
    await Promise.all(files.map(async (f) => ({ name: f.name, text: await f.text() }))),
  );
}

/** Turns capture texts into a scenario in the workspace and opens it. */
export async function importCaptureTexts(files: { name: string; text: string }[]): Promise<boolean> {
  const notices = useNoticesStore();
  const ws = useWorkspaceStore();
  const names = files.map((f) => f.name).join(', ');
  const r = await tryCall('capture.import', { files });
  if (!r.ok) {
    notices.push('error', `Import of ${names} failed: ${r.error.message}`, 'import');
    return false;
  }
  const name = ws.freshName(r.value.suggestedName.replace(/\.ts$/, ''));
  try {
    await ws.create(name, r.value.scenario);
  } catch (e) {
    notices.push('error', `Could not add ${name} to the workspace: ${errorMessage(e)}`, 'import');
    return false;
  }
  const problems = r.value.problems;
  notices.push(
    problems.length ? 'warning' : 'info',
    `Imported ${names} as ${name}: ${r.value.calls} recorded calls, ${r.value.checks} recorded results to check` +
      ` (lines skipped: ${r.value.skipped}). Run it (F5): a failure marks the first capture line the emulated host does not reproduce.` +
      (problems.length
        ? ` Problems: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ' …' : ''}`
        : ''),
    'import',
  );
  return true;
}

export async function importCapture(): Promise<boolean> {
  if (useAppStore().info?.mode !== 'browser') {
    const r = await tryCall('file.open', {});
    if (r.ok) {
      if ('cancelled' in r.value) return false;
      return importCaptureTexts([{ name: r.value.name, text: r.value.text }]);
    }
  }
  const files = await pickCaptures();
  return files.length ? importCaptureFiles(files) : false;
}
