/**
 * Issue 12, item 4: the workspace is a boundary. workspace.read/write refuse anything that is not a
 * regular file inside the workspace folder (symbolic links out of it, devices, pipes, /proc), say why,
 * and re-check the size while reading.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTextLimited, Workspace } from '../../host/workspace.ts';

const base = mkdtempSync(join(tmpdir(), 'dmawb-wsb-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const folder = join(base, 'ws');
const ws = new Workspace(folder);
const outside = join(base, 'secret.txt');
writeFileSync(outside, 'secret outside the workspace');

describe('workspace.read and workspace.write refuse what is not a regular file of the workspace', () => {
  it('a symbolic link out of the workspace is neither read nor written through', async () => {
    await ws.list(); // creates the folder
    symlinkSync(outside, join(folder, 'link.ts'));
    await expect(ws.read('link.ts')).rejects.toThrow(/link\.ts is a symbolic link: only regular files/);
    await expect(ws.write('link.ts', 'overwritten')).rejects.toThrow(
      /link\.ts is a symbolic link: the workspace writes only regular files/,
    );
    expect(readFileSync(outside, 'utf8')).toBe('secret outside the workspace');
    expect(lstatSync(join(folder, 'link.ts')).isSymbolicLink()).toBe(true);
  });

  it('a link to a device or to /proc is refused, and a named pipe does not block the read', async () => {
    symlinkSync('/dev/zero', join(folder, 'zero.ts'));
    symlinkSync('/proc/self/environ', join(folder, 'env.ts'));
    await expect(ws.read('zero.ts')).rejects.toThrow(/zero\.ts is a symbolic link/);
    await expect(ws.read('env.ts')).rejects.toThrow(/env\.ts is a symbolic link/);
    execFileSync('mkfifo', [join(folder, 'pipe.ts')]);
    await expect(ws.read('pipe.ts')).rejects.toThrow(/pipe\.ts is a named pipe: only regular files/);
    await expect(ws.write('pipe.ts', 'x')).rejects.toThrow(/pipe\.ts is a named pipe/);
  });

  it('a regular file still reads and writes; the list shows only regular files', async () => {
    await ws.write('ok.ts', 'expectEq(1, 1);\n');
    expect(await ws.read('ok.ts')).toMatchObject({ name: 'ok.ts', text: 'expectEq(1, 1);\n' });
    expect((await ws.list()).files.map((f) => f.name)).toEqual(['ok.ts']);
  });
});

describe('readTextLimited reads regular files only, and never more than the limit', () => {
  it('a device is refused before it is opened (no /dev/zero bypass)', async () => {
    await expect(readTextLimited('/dev/zero', 1024)).rejects.toThrow(/zero is a device/);
  });

  it('a file whose size says 0 but that has more (/proc) is cut off at the limit while reading', async () => {
    await expect(readTextLimited('/proc/self/status', 16)).rejects.toThrow(
      /status grew beyond the 16-byte limit while being read/,
    );
  });
});

describe('a file changed on disk while open is not silently overwritten', () => {
  it('workspace.write with the hash it loaded refuses when the disk changed, with code conflict', async () => {
    const { createDispatch } = await import('../../host/dispatch.ts');
    const { workspaceHandlers } = await import('../../host/workspace.ts');
    const dispatch = createDispatch({
      engine: { request: async () => ({ ok: false, error: { code: 'failed', message: 'no engine' } }) },
      local: workspaceHandlers(() => ws) as never,
    });
    await ws.write('edit.ts', 'mine v1\n');
    const read = await ws.read('edit.ts');
    expect(read.hash).toMatch(/^[0-9a-f]{64}$/);
    const saved = await dispatch('workspace.write', { name: 'edit.ts', text: 'mine v2\n', base: read.hash });
    expect(saved).toMatchObject({ ok: true, value: { bytes: 8 } });
    const base = (saved as { value: { hash: string } }).value.hash;
    writeFileSync(join(folder, 'edit.ts'), 'changed in another editor\n');
    const refused = await dispatch('workspace.write', { name: 'edit.ts', text: 'mine v3\n', base });
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'conflict',
        message: expect.stringMatching(/edit\.ts was changed on disk since it was opened here/),
      },
    });
    expect(readFileSync(join(folder, 'edit.ts'), 'utf8')).toBe('changed in another editor\n');
    // the user chose to keep theirs: a write without base overwrites
    expect(await dispatch('workspace.write', { name: 'edit.ts', text: 'mine v3\n' })).toMatchObject({
      ok: true,
    });
    rmSync(join(folder, 'edit.ts'));
    const gone = await dispatch('workspace.write', { name: 'edit.ts', text: 'mine v4\n', base });
    expect(gone).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/was deleted on disk/) },
    });
  });
});
