/**
 * Where the desktop app keeps things, computed without Electron so browser mode (server/) finds the same
 * workspace folder: Electron's userData is <appData>/<package name>, and its 'documents' path is the
 * user's documents folder. Only used where Electron's own app.getPath() is not available.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** the npm package name, which Electron uses as the app name (no productName is set) */
export const APP_ID = 'dma-workbench';

export function appDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform === 'win32') return env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
}

/** the desktop app's userData folder (settings.json lives there) */
export function desktopUserDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(appDataDir(env), APP_ID);
}

/** the user's documents folder as Electron reports it on Linux (XDG user dirs), macOS and Windows */
export function documentsDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = homedir();
  if (process.platform === 'linux') {
    try {
      const file = join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'user-dirs.dirs');
      if (existsSync(file)) {
        const m = /^XDG_DOCUMENTS_DIR="(.*)"$/m.exec(readFileSync(file, 'utf8'));
        if (m) return m[1]!.replace(/^\$HOME/, home);
      }
    } catch {
      // fall through to ~/Documents
    }
  }
  return join(home, 'Documents');
}
