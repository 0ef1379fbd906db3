/** The file rules in plain Node: atomic writes, no overwrite without consent, one-time seeding, name checks. */
import { mkdtempSync, promises as fs, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  atomicCreateFile,
  atomicWriteFile,
  checkName,
  FileError,
  loadSettings,
  readTextLimited,
  saveSettings,
  seedWorkspace,
  Workspace,
} from '../../host/workspace.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'dmawb-ws-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** the bundled examples, or the conformance files while examples/ is empty */
function examplesDir(): string {
  const ex = new URL('../../examples/', import.meta.url);
  try {
    if (readdirSync(ex).some((n) => n.endsWith('.ts'))) return ex.pathname;
  } catch {
    // no examples folder
  }
  return new URL('../conformance/', import.meta.url).pathname;
}

describe('atomic writes', () => {
  it('replaces a file and leaves no temp files, also over many concurrent writes', async () => {
    const d = tmp();
    const f = join(d, 'a.ts');
    await atomicWriteFile(f, 'one');
    await Promise.all(Array.from({ length: 20 }, (_, i) => atomicWriteFile(f, `v${i}`.repeat(1000))));
    expect(readFileSync(f, 'utf8')).toMatch(/^(v\d+)+$/);
    expect(readdirSync(d)).toEqual(['a.ts']);
  });

  it('cleans up its temp file when the rename fails', async () => {
    const d = tmp();
    await fs.mkdir(join(d, 'dir.ts'));
    await expect(atomicWriteFile(join(d, 'dir.ts'), 'x')).rejects.toThrow();
    expect(readdirSync(d)).toEqual(['dir.ts']);
  });

  it('creates without ever overwriting', async () => {
    const d = tmp();
    const f = join(d, 'new.ts');
    await atomicCreateFile(f, 'first');
    await expect(atomicCreateFile(f, 'second')).rejects.toThrow(FileError);
    await expect(atomicCreateFile(f, 'second')).rejects.toThrow(/already exists/);
    expect(readFileSync(f, 'utf8')).toBe('first');
    expect(readdirSync(d)).toEqual(['new.ts']);
  });
});

describe('the workspace folder', () => {
  it('lists, reads, writes and creates scenario files; create refuses to overwrite', async () => {
    const d = tmp();
    const w = new Workspace(d);
    expect(await w.create('b.ts', 'const b = 1;\n')).toEqual({ name: 'b.ts' });
    await expect(w.create('b.ts', 'other')).rejects.toThrow(/b\.ts already exists/);
    expect((await w.read('b.ts')).text).toBe('const b = 1;\n');
    expect(await w.write('a.ts', 'héllo')).toMatchObject({ name: 'a.ts', bytes: 6 });
    writeFileSync(join(d, 'notes.txt'), 'x');
    writeFileSync(join(d, '.a.ts.1.abc.tmp'), 'stray');
    expect(await w.list()).toEqual({
      folder: d,
      files: [
        { name: 'a.ts', size: 6 },
        { name: 'b.ts', size: 13 },
      ],
    });
    await expect(w.read('missing.ts')).rejects.toThrow(/missing\.ts does not exist/);
  });

  it('refuses names that leave the folder or that file systems reject', async () => {
    const w = new Workspace(tmp());
    for (const bad of [
      '../x.ts',
      '/etc/x.ts',
      'a/b.ts',
      'a\\b.ts',
      'x.js',
      '.hidden.ts',
      'con.ts',
      'a:b.ts',
      'a\u0001.ts',
      '',
    ]) {
      await expect(w.write(bad, 'x'), JSON.stringify(bad)).rejects.toThrow(FileError);
    }
    expect(checkName('qemu v2 (DDW).ts')).toBe('qemu v2 (DDW).ts');
  });

  it('refuses to read a file over the size limit before reading it', async () => {
    const d = tmp();
    writeFileSync(join(d, 'big.ts'), Buffer.alloc(2 * 1024 * 1024 + 1, 32));
    await expect(new Workspace(d).read('big.ts')).rejects.toThrow(/larger than the 2097152-byte limit/);
    await expect(readTextLimited(join(d, 'big.ts'), 10)).rejects.toThrow(/larger than the 10-byte limit/);
  });
});

describe('seeding', () => {
  it('copies the bundled examples once, into a folder it creates, and never again', async () => {
    const d = join(tmp(), 'DMA Workbench', 'scenarios');
    const src = examplesDir();
    const expected = readdirSync(src)
      .filter((n) => n.endsWith('.ts'))
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(await seedWorkspace(d, src)).toEqual(expected);
    expect(readdirSync(d).sort()).toEqual(expected);
    // the user edits one and deletes another: a second launch changes nothing
    writeFileSync(join(d, expected[0]!), 'mine');
    rmSync(join(d, expected[expected.length - 1]!));
    expect(await seedWorkspace(d, src)).toEqual([]);
    expect(readFileSync(join(d, expected[0]!), 'utf8')).toBe('mine');
    expect(readdirSync(d).length).toBe(expected.length - 1);
  });

  it('creates an empty workspace when there are no examples', async () => {
    const d = join(tmp(), 'ws');
    expect(await seedWorkspace(d, join(d, '..', 'nothing-here'))).toEqual([]);
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('settings', () => {
  it('remembers the workspace folder, and falls back to defaults on a missing or broken file', async () => {
    const d = tmp();
    const f = join(d, 'userData', 'settings.json');
    expect(await loadSettings(f)).toEqual({});
    await saveSettings(f, { workspace: '/somewhere/else' });
    expect(await loadSettings(f)).toEqual({ workspace: '/somewhere/else' });
    writeFileSync(f, '{ broken');
    expect(await loadSettings(f)).toEqual({});
  });
});
