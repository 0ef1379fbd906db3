/**
 * Issue 12, item 6 in the workspace store: a file changed on disk while open is detected (the host's
 * hash), autosave does not overwrite it, the user chooses; focus reloads a clean file and flags a dirty one.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { useSettingsStore } from '../../renderer/src/stores/settings';
import { useWorkspaceStore } from '../../renderer/src/stores/workspace';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { setup, until } from './helpers';

/** a disk with hashes behind the fake bridge's workspace.read / workspace.write (the host's rules) */
function withDisk(fake: FakeBridge, files: Record<string, string>) {
  const disk = new Map(Object.entries(files));
  const hash = (t: string) => `h${t.length}:${t}`;
  const writes: { name: string; text: string; base?: string }[] = [];
  const f = fake as unknown as Record<string, (r: never) => Promise<unknown>>;
  f['workspace.list'] = async () => ({
    ok: true,
    value: { folder: '/ws', files: [...disk.keys()].map((name) => ({ name, size: disk.get(name)!.length })) },
  });
  f['workspace.read'] = async (r: { name: string }) =>
    disk.has(r.name)
      ? { ok: true, value: { name: r.name, text: disk.get(r.name)!, hash: hash(disk.get(r.name)!) } }
      : { ok: false, error: { code: 'failed', message: 'gone' } };
  f['workspace.write'] = async (r: { name: string; text: string; base?: string }) => {
    writes.push(r);
    const now = disk.get(r.name);
    if (r.base !== undefined && (now === undefined || hash(now) !== r.base))
      return { ok: false, error: { code: 'conflict', message: `${r.name} was changed on disk` } };
    disk.set(r.name, r.text);
    return { ok: true, value: { name: r.name, bytes: r.text.length, hash: hash(r.text) } };
  };
  return { disk, writes };
}

describe('a file changed on disk while open', () => {
  let fake: FakeBridge;
  beforeEach(() => {
    fake = setup();
    useSettingsStore().autosaveMs = 10;
  });

  it('is not overwritten by autosave; the typed text is kept and the user chooses', async () => {
    const { disk, writes } = withDisk(fake, { 'a.ts': 'original' });
    const ws = useWorkspaceStore();
    await ws.load();
    disk.set('a.ts', 'edited elsewhere');
    ws.setText('typed here');
    await until(() => ws.current?.conflict, 'the conflict');
    expect(disk.get('a.ts')).toBe('edited elsewhere');
    expect(ws.text).toBe('typed here');
    expect(ws.current?.error).toMatch(/changed on disk/);
    expect(writes[0]).toMatchObject({ base: 'h8:original' });
    ws.setText('typed here, more'); // further typing does not retry the write behind the user's back
    await new Promise((r) => setTimeout(r, 50));
    expect(disk.get('a.ts')).toBe('edited elsewhere');

    await ws.resolveConflict('a.ts', 'mine');
    expect(disk.get('a.ts')).toBe('typed here, more');
    expect(ws.current?.conflict).toBe(false);
    expect(ws.dirty).toHaveLength(0);
  });

  it('"load from disk" replaces the editor text with the file', async () => {
    const { disk } = withDisk(fake, { 'a.ts': 'original' });
    const ws = useWorkspaceStore();
    await ws.load();
    disk.set('a.ts', 'theirs');
    ws.setText('mine');
    await until(() => ws.current?.conflict, 'the conflict');
    await ws.resolveConflict('a.ts', 'theirs');
    expect(ws.text).toBe('theirs');
    expect(ws.dirty).toHaveLength(0);
    ws.setText('theirs + mine');
    await until(() => disk.get('a.ts') === 'theirs + mine', 'the next autosave');
  });

  it('on focus: a clean file is reloaded, a file with unsaved edits becomes a conflict', async () => {
    const { disk } = withDisk(fake, { 'a.ts': 'A', 'b.ts': 'B' });
    const ws = useWorkspaceStore();
    await ws.load();
    await ws.open('b.ts');
    useSettingsStore().autosaveMs = 60_000; // keep b.ts's edit unsaved
    ws.setText('B typed');
    disk.set('a.ts', 'A changed');
    disk.set('b.ts', 'B changed');
    await ws.checkDisk();
    expect(ws.buffers['a.ts']!.text).toBe('A changed');
    expect(ws.buffers['a.ts']!.conflict).toBeFalsy();
    expect(ws.buffers['b.ts']!.text).toBe('B typed');
    expect(ws.buffers['b.ts']!.conflict).toBe(true);
  });
});
