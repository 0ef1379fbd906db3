/**
 * The workspace: its scenario files, the one open in the editor, and autosave.
 *
 * Every file the user touched has a buffer here holding what they typed. Buffers are the truth for the
 * editor: they survive engine restarts and reconnects, a failed save keeps the text (and says so), and
 * the next edit, reconnect or restart retries it. Writes to one file are serialized so an older text
 * never lands after a newer one. Text not yet saved is also kept in localStorage (`dmawb.unsaved`), so a
 * reload — after a browser-mode server restart, say — restores it instead of the file's older text.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { BridgeError, call, errorMessage } from '../bridge/api';
import { loadJson, saveJson } from './persist';
import { useSettingsStore } from './settings';

export interface Buffer {
  name: string;
  text: string;
  /** the text the workspace holds as far as we know */
  savedText: string;
  saving: boolean;
  /** message of the last failed save, cleared by the next successful one */
  error: string | null;
  /** hash of the file as this editor last loaded or saved it (workspace.write refuses if the disk differs) */
  savedHash?: string | undefined;
  /** the file changed on disk while open here: autosave waits until the user chooses (resolveConflict) */
  conflict?: boolean;
}

export const DEFAULT_SCENARIO = 'qemu-v2-ddw.ts';

export const NEW_SCENARIO_TEXT = `// A new scenario: the ioctl sequence of your VMM, step by step.
const host = createHost();
const phb = host.addPhb({ model: 'IODA2' });
const G = phb.addGroup();
const p = host.spawn({ name: 'qemu', memlock: 1n * GiB });
const R = p.mmap({ size: 256n * MiB });

const C = p.openContainer();
const g = p.openGroup(G);
expectOk(g.setContainer(C), 'SET_CONTAINER');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(v2)');
expectOk(C.registerMemory({ vaddr: R, size: 256n * MiB }), 'REGISTER_MEMORY');
`;

export const useWorkspaceStore = defineStore('workspace', () => {
  const settings = useSettingsStore();
  const folder = ref('');
  const files = ref<{ name: string; size: number }[]>([]);
  const openName = ref<string | null>(null);
  const buffers = ref<Record<string, Buffer>>({});
  const loadError = ref<string | null>(null);
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const inflight = new Map<string, Promise<void>>();

  /** unsaved text per file from an earlier page (restored when the file opens) */
  const UNSAVED = 'dmawb.unsaved';
  const backup = loadJson<Record<string, string>>(UNSAVED, {});
  const restored = ref<string[]>([]);

  const current = computed<Buffer | null>(() =>
    openName.value ? (buffers.value[openName.value] ?? null) : null,
  );
  const text = computed(() => current.value?.text ?? '');
  const dirty = computed(() => Object.values(buffers.value).filter((b) => b.text !== b.savedText));
  const saveErrors = computed(() => Object.values(buffers.value).filter((b) => b.error));

  async function refresh(): Promise<void> {
    const r = await call('workspace.list', {});
    folder.value = r.folder;
    files.value = r.files;
  }

  /** Lists the workspace and opens the default scenario (or keeps the open one). */
  async function load(): Promise<void> {
    try {
      await refresh();
      loadError.value = null;
    } catch (e) {
      loadError.value = errorMessage(e);
      return;
    }
    if (openName.value && buffers.value[openName.value]) return;
    const first = files.value.find((f) => f.name === DEFAULT_SCENARIO) ?? files.value[0];
    if (first) await open(first.name);
  }

  async function open(name: string): Promise<void> {
    if (!buffers.value[name]) {
      const r = await call('workspace.read', { name });
      // the user may have opened it meanwhile and typed: keep what they typed
      if (!buffers.value[name]) {
        const kept = backup[name];
        buffers.value[name] = {
          name,
          text: r.text,
          savedText: r.text,
          saving: false,
          error: null,
          savedHash: r.hash,
        };
        if (typeof kept === 'string' && kept !== r.text) {
          // edits an earlier page could not save: back in the buffer, saved by the next autosave
          buffers.value[name]!.text = kept;
          restored.value = [...restored.value, name];
          schedule(name);
        }
      }
    }
    openName.value = name;
  }

  /** The editor's text for the open file changed. */
  function setText(value: string, name = openName.value): void {
    if (!name) return;
    const b = buffers.value[name];
    if (!b || b.text === value) return;
    b.text = value;
    schedule(name);
  }

  function schedule(name: string, ms = settings.autosaveMs): void {
    const t = timers.get(name);
    if (t) clearTimeout(t);
    timers.set(
      name,
      setTimeout(() => {
        timers.delete(name);
        void save(name);
      }, ms),
    );
  }

  /** Writes a buffer now (after any write of it already in flight). */
  async function save(name: string): Promise<void> {
    const prev = inflight.get(name);
    if (prev) await prev;
    const b = buffers.value[name];
    if (!b || b.text === b.savedText || b.conflict) return;
    const t = timers.get(name);
    if (t) {
      clearTimeout(t);
      timers.delete(name);
    }
    const textToSave = b.text;
    const job = (async () => {
      b.saving = true;
      try {
        const r = await call('workspace.write', {
          name,
          text: textToSave,
          ...(b.savedHash ? { base: b.savedHash } : {}),
        });
        b.savedText = textToSave;
        b.savedHash = r.hash;
        b.error = null;
        const f = files.value.find((x) => x.name === name);
        if (f) f.size = textToSave.length;
      } catch (e) {
        b.error = errorMessage(e);
        if (e instanceof BridgeError && e.code === 'conflict') b.conflict = true;
      } finally {
        b.saving = false;
      }
    })();
    inflight.set(name, job);
    try {
      await job;
    } finally {
      if (inflight.get(name) === job) inflight.delete(name);
    }
  }

  /**
   * The user's choice for a file that changed on disk while open: 'mine' writes the editor's text over it,
   * 'theirs' loads the file from disk into the editor (what was typed is replaced).
   */
  async function resolveConflict(name: string, choice: 'mine' | 'theirs'): Promise<void> {
    const b = buffers.value[name];
    if (!b) return;
    if (choice === 'mine') {
      b.conflict = false;
      b.savedHash = undefined; // no base: overwrite
      b.savedText = b.text === b.savedText ? `${b.savedText}\u0000` : b.savedText; // force a write
      await save(name);
      return;
    }
    const r = await call('workspace.read', { name });
    b.text = r.text;
    b.savedText = r.text;
    b.savedHash = r.hash;
    b.conflict = false;
    b.error = null;
  }

  /**
   * Looks for files changed on disk (the window got focus): an open file with no unsaved edits is
   * reloaded; one with unsaved edits is marked as a conflict and the user chooses.
   */
  async function checkDisk(): Promise<void> {
    for (const b of Object.values(buffers.value)) {
      if (!b.savedHash || b.saving || b.conflict) continue;
      let r: { text: string; hash?: string };
      try {
        r = await call('workspace.read', { name: b.name });
      } catch {
        continue; // deleted or unreadable: the next save says so
      }
      if (!r.hash || r.hash === b.savedHash) continue;
      if (b.text === b.savedText) {
        b.text = r.text;
        b.savedText = r.text;
        b.savedHash = r.hash;
      } else {
        b.conflict = true;
        b.error = `${b.name} was changed on disk since it was opened here; your text is kept: keep yours (overwrite the file) or load the file from disk`;
      }
    }
  }

  /** Saves every unsaved buffer now (before a run, on reconnect or after an engine restart). */
  async function flushAll(): Promise<void> {
    await Promise.all(dirty.value.map((b) => save(b.name)));
  }

  async function create(name: string, initial = NEW_SCENARIO_TEXT): Promise<void> {
    const fileName = name.endsWith('.ts') ? name : `${name}.ts`;
    await call('workspace.create', { name: fileName, text: initial });
    buffers.value[fileName] = {
      name: fileName,
      text: initial,
      savedText: initial,
      saving: false,
      error: null,
    };
    await refresh().catch(() => files.value.push({ name: fileName, size: initial.length }));
    openName.value = fileName;
  }

  /** a file name not yet in the workspace: untitled.ts, untitled-2.ts, … */
  function freshName(base = 'untitled'): string {
    const taken = new Set(files.value.map((f) => f.name));
    for (let i = 1; ; i++) {
      const n = i === 1 ? `${base}.ts` : `${base}-${i}.ts`;
      if (!taken.has(n)) return n;
    }
  }

  /** Forgets the workspace (another folder was chosen); buffers with unsaved text are kept. */
  function reset(): void {
    for (const [name, b] of Object.entries(buffers.value))
      if (b.text === b.savedText) delete buffers.value[name];
    files.value = [];
    openName.value = null;
  }

  // keep what is not saved yet where a reload finds it
  watch(
    () => dirty.value.map((b) => [b.name, b.text] as const),
    (list) => saveJson(UNSAVED, Object.fromEntries(list)),
  );

  return {
    restored,
    reset,
    folder,
    files,
    openName,
    buffers,
    loadError,
    current,
    text,
    dirty,
    saveErrors,
    load,
    refresh,
    open,
    setText,
    save,
    flushAll,
    resolveConflict,
    checkDisk,
    create,
    freshName,
  };
});
