#!/usr/bin/env node
// `npm start`: the desktop app. Electron's binary is not installed with the package (since Electron 42 it
// downloads on first use), so this first makes sure the binary is there — downloading it with the electron
// package's own install.js if needed — and only then builds (electron-vite build) and starts `electron .`.
// Where the binary is missing and cannot be downloaded (no access to the download host, a proxy, an
// ELECTRON_OVERRIDE_DIST_PATH without a binary) it ends with one message saying why and pointing at
// `npm run serve`, the same workbench in a browser, and exits 1 — not with a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** the electron package's folder, or null where it is not installed */
function electronDir() {
  try {
    return dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/** where `electron` (its index.js) will look for the binary, without triggering a download */
function binaryPath(dir) {
  const pathTxt = join(dir, 'path.txt');
  const name = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) return join(override, name || 'electron');
  return name ? join(dir, 'dist', name) : null;
}

function fail(why) {
  const version = (() => {
    try {
      return JSON.parse(readFileSync(join(electronDir(), 'package.json'), 'utf8')).version;
    } catch {
      return 'its';
    }
  })();
  console.error(
    [
      '',
      `npm start: the desktop app needs the Electron ${version} binary, and ${why}.`,
      '',
      '  Use `npm run serve` for the same workbench in a browser (it prints a URL to open; no Electron needed).',
      '',
      '  To get the desktop app, run `npm start` again where https://github.com/electron/electron/releases',
      '  is reachable (or set ELECTRON_MIRROR to a mirror, or ELECTRON_OVERRIDE_DIST_PATH to a folder with',
      '  the binary).',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const dir = electronDir();
if (!dir) fail('the `electron` package is not installed (run `npm install` first)');

let exe = binaryPath(dir);
if (!exe || !existsSync(exe)) {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH)
    fail(`ELECTRON_OVERRIDE_DIST_PATH points at ${exe}, which does not exist`);
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD)
    fail('it is not installed and ELECTRON_SKIP_BINARY_DOWNLOAD is set');
  console.log('npm start: downloading the Electron binary (first start only)…');
  const r = spawnSync(process.execPath, [join(dir, 'install.js')], { encoding: 'utf8' });
  exe = binaryPath(dir);
  if (r.status !== 0 || !exe || !existsSync(exe)) {
    const text = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
    const reason =
      r.error?.message ??
      text
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !l.startsWith('at ')) ??
      `install.js exited with ${r.status}`;
    fail(`it is not installed and could not be downloaded (${reason})`);
  }
}

// build, then start the app with the package's launcher (it forwards signals and the exit code)
const electronVite = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
const build = spawnSync(process.execPath, [electronVite, 'build'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
const app = spawn(process.execPath, [join(dir, 'cli.js'), '.', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
app.on('close', (code) => process.exit(code ?? 1));
