/**
 * The desktop app's files: the workspace folder (default `Documents/DMA Workbench/scenarios`, seeded with
 * the bundled examples on first launch, changed with a native folder dialog and remembered in
 * userData/settings.json), and the native Save As / Open dialogs. The rules themselves (atomic writes,
 * no overwrite, size limits, names) are in host/workspace.ts, which is Electron-free.
 */
import { dialog, type BrowserWindow } from 'electron';
import { basename, dirname, extname, join } from 'node:path';
import type { LocalHandlers } from '../host/dispatch.ts';
import {
  atomicWriteFile,
  defaultWorkspaceFolder,
  loadSettings,
  MAX_OPEN_BYTES,
  readTextLimited,
  safeFileName,
  saveSettings,
  seedWorkspace,
  Workspace,
  workspaceHandlers,
  type Settings,
} from '../host/workspace.ts';

export interface DesktopFilesOptions {
  userData: string;
  documents: string;
  /** the bundled examples/ folder */
  examplesDir: string;
  /** overrides the default workspace folder (tests: DMAWB_WORKSPACE) */
  defaultFolder?: string;
}

type FileChannel =
  | 'workspace.list'
  | 'workspace.read'
  | 'workspace.write'
  | 'workspace.create'
  | 'workspace.choose'
  | 'file.saveAs'
  | 'file.open';

export class DesktopFiles {
  private lastDir: string;

  private constructor(
    private readonly settingsFile: string,
    private settings: Settings,
    public workspace: Workspace,
    documents: string,
  ) {
    this.lastDir = documents;
  }

  /** loads the settings and prepares the workspace folder (seeding it on first launch) */
  static async open(o: DesktopFilesOptions): Promise<DesktopFiles> {
    const settingsFile = join(o.userData, 'settings.json');
    const settings = await loadSettings(settingsFile);
    const folder = settings.workspace ?? o.defaultFolder ?? defaultWorkspaceFolder(o.documents);
    try {
      await seedWorkspace(folder, o.examplesDir);
    } catch {
      // an unwritable folder shows up as errors on the workspace channels, with the reason
    }
    return new DesktopFiles(settingsFile, settings, new Workspace(folder), o.documents);
  }

  /** the file channels of the contract, with dialogs parented to `win()` */
  handlers(win: () => BrowserWindow | null): Pick<LocalHandlers, FileChannel> {
    const parent = (): BrowserWindow | undefined => win() ?? undefined;
    const show = <T>(f: (w: BrowserWindow | undefined) => Promise<T>): Promise<T> => f(parent());
    return {
      ...workspaceHandlers(() => this.workspace),
      'workspace.choose': async () => {
        const r = await show((w) => {
          const opts: Electron.OpenDialogOptions = {
            title: 'Choose the workspace folder',
            defaultPath: this.workspace.folder,
            properties: ['openDirectory', 'createDirectory'],
          };
          return w ? dialog.showOpenDialog(w, opts) : dialog.showOpenDialog(opts);
        });
        const folder = r.filePaths[0];
        if (r.canceled || !folder) return { cancelled: true as const };
        this.workspace = new Workspace(folder);
        this.settings = { ...this.settings, workspace: this.workspace.folder };
        await saveSettings(this.settingsFile, this.settings);
        return { folder: this.workspace.folder };
      },
      'file.saveAs': async (req) => {
        const name = safeFileName(req.suggestedName);
        const ext = extname(name).slice(1);
        const r = await show((w) => {
          const opts: Electron.SaveDialogOptions = {
            title: 'Save As',
            defaultPath: join(this.lastDir, name),
            filters: ext
              ? [
                  { name: ext.toUpperCase(), extensions: [ext] },
                  { name: 'All files', extensions: ['*'] },
                ]
              : [],
          };
          return w ? dialog.showSaveDialog(w, opts) : dialog.showSaveDialog(opts);
        });
        if (r.canceled || !r.filePath) return { cancelled: true as const };
        // the user chose this path in the dialog (which asks before replacing a file): consent to overwrite
        await atomicWriteFile(r.filePath, req.text);
        this.lastDir = dirname(r.filePath);
        return { path: r.filePath };
      },
      'file.open': async () => {
        const r = await show((w) => {
          const opts: Electron.OpenDialogOptions = {
            title: 'Open',
            defaultPath: this.lastDir,
            properties: ['openFile'],
            filters: [
              { name: 'Scenarios and snapshots', extensions: ['ts', 'json'] },
              { name: 'All files', extensions: ['*'] },
            ],
          };
          return w ? dialog.showOpenDialog(w, opts) : dialog.showOpenDialog(opts);
        });
        const path = r.filePaths[0];
        if (r.canceled || !path) return { cancelled: true as const };
        const text = await readTextLimited(path, MAX_OPEN_BYTES);
        this.lastDir = dirname(path);
        return { name: basename(path), text };
      },
    };
  }
}
