import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useWorkspaceStore } from '../../renderer/src/stores/workspace';
import { useSettingsStore } from '../../renderer/src/stores/settings';
import { useRunStore } from '../../renderer/src/stores/run';
import { useAppStore } from '../../renderer/src/stores/app';
import { useNoticesStore } from '../../renderer/src/stores/notices';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { setup, sleep, until } from './helpers';

let fake: FakeBridge;

describe('workspace store', () => {
  beforeEach(() => {
    fake = setup({ files: { 'a.ts': 'A', 'qemu-v2-ddw.ts': 'QEMU', 'z.ts': 'Z' } });
    useSettingsStore().autosaveMs = 20;
  });

  it('opens the bundled QEMU example on load, else the first file', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    expect(ws.openName).toBe('qemu-v2-ddw.ts');
    expect(ws.text).toBe('QEMU');

    fake = setup({ files: { 'b.ts': 'B', 'a.ts': 'A' } });
    const ws2 = useWorkspaceStore();
    await ws2.load();
    expect(ws2.openName).toBe('a.ts');
  });

  it('autosaves after a pause in typing, once, with the latest text', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    ws.setText('Q1');
    ws.setText('Q12');
    ws.setText('Q123');
    expect(ws.dirty.map((b) => b.name)).toEqual(['qemu-v2-ddw.ts']);
    await until(() => ws.dirty.length === 0, 'the save');
    const writes = fake.calls.filter((c) => c.channel === 'workspace.write');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.payload).toEqual({ name: 'qemu-v2-ddw.ts', text: 'Q123' });
    expect(fake.files.get('qemu-v2-ddw.ts')).toBe('Q123');
  });

  it('keeps the text and shows the error when a save fails, and saves on the next try', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    fake.failWrites = 'workspace.write: disk full';
    ws.setText('unsaved work');
    await until(() => ws.current?.error, 'the save error');
    expect(ws.current!.error).toContain('disk full');
    expect(ws.text).toBe('unsaved work');
    expect(ws.saveErrors).toHaveLength(1);
    fake.failWrites = null;
    await ws.flushAll();
    expect(ws.current!.error).toBeNull();
    expect(fake.files.get('qemu-v2-ddw.ts')).toBe('unsaved work');
  });

  it('switching files keeps what was typed in each', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    ws.setText('edited qemu');
    await ws.open('a.ts');
    ws.setText('edited a');
    await ws.open('qemu-v2-ddw.ts');
    expect(ws.text).toBe('edited qemu');
    await ws.open('a.ts');
    expect(ws.text).toBe('edited a');
    await ws.flushAll(); // no autosave timer left to fire into the next test's bridge
  });

  it('restores unsaved text on the next page (a reload after a server restart)', async () => {
    if (typeof localStorage === 'undefined') return;
    const ws = useWorkspaceStore();
    await ws.load();
    fake.failWrites = 'workspace.write: server gone';
    ws.setText('typed while the server was down');
    await ws.save('qemu-v2-ddw.ts');
    await new Promise((r) => setTimeout(r, 0));
    // a new page: fresh stores, same storage; the server still has the old text
    setActivePinia(createPinia());
    fake.failWrites = null;
    const again = useWorkspaceStore();
    await again.load();
    expect(again.text).toBe('typed while the server was down');
    expect(again.restored).toEqual(['qemu-v2-ddw.ts']);
    await again.save('qemu-v2-ddw.ts');
    expect(fake.files.get('qemu-v2-ddw.ts')).toBe('typed while the server was down');
  });

  it('never lets an older text land after a newer one', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    ws.setText('v1');
    const first = ws.save('qemu-v2-ddw.ts');
    ws.setText('v2');
    const second = ws.save('qemu-v2-ddw.ts');
    await Promise.all([first, second]);
    const texts = fake.calls
      .filter((c) => c.channel === 'workspace.write')
      .map((c) => (c.payload as { text: string }).text);
    expect(texts).toEqual(['v1', 'v2']);
    expect(fake.files.get('qemu-v2-ddw.ts')).toBe('v2');
  });

  it('keeps unsaved text across an engine restart and retries the save', async () => {
    const app = useAppStore();
    await app.start();
    const ws = useWorkspaceStore();
    fake.failWrites = 'workspace.write: engine gone';
    ws.setText('typed during the crash');
    await until(() => ws.current?.error, 'the failed save');
    fake.failWrites = null;
    fake.emit('engine.restarted', { reason: 'the worker exited with code 1' });
    await until(() => fake.files.get('qemu-v2-ddw.ts') === 'typed during the crash', 'the retried save');
    expect(ws.text).toBe('typed during the crash');
    expect(
      useNoticesStore().items.some((n) => n.key === 'engine-restarted' && n.text.includes('worker exited')),
    ).toBe(true);
    expect(useRunStore().status).toBe('idle');
  });

  it('creates a new scenario and opens it; refuses to overwrite', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    expect(ws.freshName()).toBe('untitled.ts');
    await ws.create('untitled');
    expect(ws.openName).toBe('untitled.ts');
    expect(ws.text).toContain('createHost');
    expect(ws.files.map((f) => f.name)).toContain('untitled.ts');
    expect(ws.freshName()).toBe('untitled-2.ts');
    await expect(ws.create('a.ts')).rejects.toThrow(/already exists/);
  });

  it('an edit of a file that is not open does not touch the open one', async () => {
    const ws = useWorkspaceStore();
    await ws.load();
    await ws.open('z.ts');
    ws.setText('QEMU!', 'qemu-v2-ddw.ts');
    expect(ws.text).toBe('Z');
    await sleep(60);
    expect(fake.files.get('qemu-v2-ddw.ts')).toBe('QEMU!');
  });
});
