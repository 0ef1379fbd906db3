/**
 * `npm start` needs the Electron binary, which the `electron` package downloads on first use (since
 * Electron 42 there is no postinstall: `require('electron')` or `electron .` runs its install.js). The
 * machines this project is built on cannot reach the download host, so this test serves a stand-in
 * release on 127.0.0.1 — a zip with an `electron` launcher script and its SHASUMS256.txt, laid out as
 * Electron's mirror is — points ELECTRON_MIRROR at it, and runs the electron package's own
 * download-and-extract step with the repository's Node (process.execPath). It proves that this Node can
 * run that step (the package declares engines >= 22.12) and that the result is where `electron` looks:
 * dist/<path.txt>, launched by the package's cli.js as `npm start` does.
 *
 * The installed package is copied to a scratch folder first, so the repository's node_modules/electron is
 * never touched.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node } from '../support/node-child.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const electronPkg = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')) as {
  version: string;
};
const version = electronPkg.version;
const platform = process.platform === 'win32' ? 'win32' : process.platform;
const zipName = `electron-v${version}-${platform}-${process.arch}.zip`;

/** a zip (stored, no compression) of { name: [content, unix mode] } */
function zip(files: Record<string, [string, number]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, [text, mode]] of Object.entries(files)) {
    const data = Buffer.from(text);
    const fname = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28);
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += local.length + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe.skipIf(process.platform !== 'linux')('electron download step against a local mirror', () => {
  let server: Server;
  let mirror = '';
  const requested: string[] = [];
  let scratch = '';

  beforeAll(async () => {
    const archive = zip({
      electron: ['#!/bin/sh\necho "stand-in electron $*"\n', 0o755],
      version: [`v${version}`, 0o644],
      LICENSE: ['stand-in for a test; not Electron\n', 0o644],
    });
    const sums = `${createHash('sha256').update(archive).digest('hex')} *${zipName}\n`;
    server = createServer((req, res) => {
      requested.push(req.url ?? '');
      if (req.url === `/v${version}/${zipName}`) res.end(archive);
      else if (req.url === `/v${version}/SHASUMS256.txt`) res.end(sums);
      else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
    // inside the checkout so the copied package resolves @electron/get from the repository's node_modules
    scratch = mkdtempSync(join(root, 'node_modules/.cache/dmawb-electron-dl-'));
    cpSync(join(root, 'node_modules/electron'), join(scratch, 'node_modules/electron'), {
      recursive: true,
      filter: (src) => !/[/\\](dist|path\.txt)$/.test(src),
    });
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it(`installs the stand-in where electron expects it, with this Node (${process.version})`, async () => {
    const pkg = join(scratch, 'node_modules/electron');
    const env = {
      ...process.env,
      ELECTRON_MIRROR: mirror,
      electron_use_remote_checksums: '1',
      electron_config_cache: join(scratch, 'cache'),
      force_no_cache: 'true',
    };
    const install = await node([join(pkg, 'install.js')], { cwd: scratch, env });
    expect(install.status, `install.js failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
    expect(requested).toContain(`/v${version}/${zipName}`);
    expect(requested).toContain(`/v${version}/SHASUMS256.txt`);
    expect(readFileSync(join(pkg, 'path.txt'), 'utf8')).toBe(
      process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron',
    );
    const exe = join(pkg, 'dist', 'electron');
    expect(existsSync(exe)).toBe(true);
    expect(statSync(exe).mode & 0o111).not.toBe(0);

    // what `electron .` (npm start) then runs: the package's cli.js finds dist/<path.txt> and starts it
    const cli = await node([join(pkg, 'cli.js'), '.'], { cwd: root, env });
    expect(cli.stdout.trim()).toBe('stand-in electron .');
    expect(cli.status).toBe(0);
  });

  it('refuses an archive whose checksum does not match', async () => {
    const pkg = join(scratch, 'node_modules/electron');
    rmSync(join(pkg, 'dist'), { recursive: true, force: true });
    rmSync(join(pkg, 'path.txt'), { force: true });
    // the package's own pinned checksums (of the real release) cannot match the stand-in
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ELECTRON_MIRROR: mirror,
      electron_config_cache: join(scratch, 'cache2'),
      force_no_cache: 'true',
    };
    delete env['electron_use_remote_checksums'];
    const install = await node([join(pkg, 'install.js')], { cwd: scratch, env });
    expect(install.status).not.toBe(0);
    expect(`${install.stdout}${install.stderr}`).toMatch(/checksum|sha256|match/i);
    expect(existsSync(join(pkg, 'path.txt'))).toBe(false);
  });
});
