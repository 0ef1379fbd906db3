/**
 * Builds the renderer for browser mode when out/renderer is missing or older than its sources, with the
 * renderer part of electron.vite.config.ts only (main and preload are not needed in a browser).
 */
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';

/** what the built renderer depends on, relative to the repository root */
const INPUTS = [
  'renderer',
  'common',
  'types',
  'electron.vite.config.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.web.json',
];

async function newestMtime(path: string): Promise<number> {
  let st;
  try {
    st = await fs.stat(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const d of await fs.readdir(path, { withFileTypes: true })) {
    if (d.name === 'node_modules' || d.name.startsWith('.')) continue;
    newest = Math.max(newest, await newestMtime(join(path, d.name)));
  }
  return newest;
}

/** why the renderer must be (re)built, or null when out/renderer is up to date */
export async function rendererStaleness(root: string): Promise<string | null> {
  const index = join(root, 'out', 'renderer', 'index.html');
  if (!existsSync(index)) return 'out/renderer is missing';
  const built = (await fs.stat(index)).mtimeMs;
  for (const input of INPUTS) {
    if ((await newestMtime(join(root, input))) > built) return `${input} changed since the last build`;
  }
  return null;
}

/** builds out/renderer; returns the time it took in ms */
export async function buildRenderer(root: string): Promise<number> {
  const t0 = performance.now();
  const { resolveConfig } = await import('electron-vite');
  const { build } = await import('vite');
  process.env['NODE_ENV_ELECTRON_VITE'] = 'production';
  const resolved = await resolveConfig(
    { root, configFile: join(root, 'electron.vite.config.ts'), logLevel: 'error' },
    'build',
    'production',
  );
  const renderer = resolved.config?.renderer;
  if (!renderer) throw new Error('electron.vite.config.ts has no renderer configuration');
  await build(renderer);
  return performance.now() - t0;
}
