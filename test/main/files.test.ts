/**
 * The desktop file channels (main/files.ts) with Electron's dialogs replaced by a fake that "chooses" what
 * the test says: first-launch seeding, the remembered workspace folder, Save As and Open.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const answers = vi.hoisted(() => ({
  open: [] as { canceled: boolean; filePaths: string[] }[],
  save: [] as { canceled: boolean; filePath?: string }[],
}));
vi.mock('electron', () => ({
  dialog: {
    showOpenDialog: async () => answers.open.shift(),
    showSaveDialog: async () => answers.save.shift(),
  },
}));
const { DesktopFiles } = await import('../../main/files.ts');

const base = mkdtempSync(join(tmpdir(), 'dmawb-files-'));
const examples = join(base, 'examples');
afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeEach(() => {
  for (const d of ['examples', 'userData', 'Documents', 'elsewhere', 'out'])
    rmSync(join(base, d), { recursive: true, force: true });
  mkdirSync(examples, { recursive: true });
  writeFileSync(join(examples, 'a.ts'), 'log("a")\n');
  writeFileSync(join(examples, 'b.ts'), 'log("b")\n');
});

const open = () =>
  DesktopFiles.open({
    userData: join(base, 'userData'),
    documents: join(base, 'Documents'),
    examplesDir: examples,
  });

describe('desktop files', () => {
  it('seeds Documents/DMA Workbench/scenarios with the examples on first launch only', async () => {
    const f = await open();
    expect(f.workspace.folder).toBe(join(base, 'Documents', 'DMA Workbench', 'scenarios'));
    expect(readdirSync(f.workspace.folder).sort()).toEqual(['a.ts', 'b.ts']);
    rmSync(join(f.workspace.folder, 'a.ts'));
    await open();
    expect(readdirSync(f.workspace.folder)).toEqual(['b.ts']);
  });

  it('changes the workspace with the folder dialog and remembers it across launches', async () => {
    const f = await open();
    const h = f.handlers(() => null);
    answers.open.push({ canceled: true, filePaths: [] });
    expect(await h['workspace.choose']({})).toEqual({ cancelled: true });
    answers.open.push({ canceled: false, filePaths: [join(base, 'elsewhere')] });
    expect(await h['workspace.choose']({})).toEqual({ folder: join(base, 'elsewhere') });
    expect(JSON.parse(readFileSync(join(base, 'userData', 'settings.json'), 'utf8'))).toEqual({
      workspace: join(base, 'elsewhere'),
    });
    expect((await h['workspace.list']({})).folder).toBe(join(base, 'elsewhere'));
    expect((await open()).workspace.folder).toBe(join(base, 'elsewhere'));
  });

  it('saves where the user chose, atomically, replacing the file they chose', async () => {
    const h = (await open()).handlers(() => null);
    const target = join(base, 'out', 'snap.json');
    mkdirSync(join(base, 'out'), { recursive: true });
    writeFileSync(target, 'old');
    answers.save.push({ canceled: false, filePath: target });
    expect(await h['file.saveAs']({ suggestedName: '../../snap.json', text: '{"new":true}' })).toEqual({
      path: target,
    });
    expect(readFileSync(target, 'utf8')).toBe('{"new":true}');
    expect(readdirSync(join(base, 'out'))).toEqual(['snap.json']);
    answers.save.push({ canceled: true });
    expect(await h['file.saveAs']({ suggestedName: 'x.md', text: 'x' })).toEqual({ cancelled: true });
  });

  it('opens the chosen file, refusing files over the size limit', async () => {
    const h = (await open()).handlers(() => null);
    answers.open.push({ canceled: false, filePaths: [join(examples, 'a.ts')] });
    expect(await h['file.open']({})).toEqual({ name: 'a.ts', text: 'log("a")\n' });
    const big = join(base, 'big.json');
    writeFileSync(big, Buffer.alloc(64 * 1024 * 1024 + 1, 32));
    answers.open.push({ canceled: false, filePaths: [big] });
    await expect(h['file.open']({})).rejects.toThrow(/larger than the 67108864-byte limit/);
    rmSync(big);
    expect(existsSync(big)).toBe(false);
  });
});
