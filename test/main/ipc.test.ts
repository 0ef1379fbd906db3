/**
 * main/ipc.ts with `electron` replaced by a fake: one handler per channel, senders other than the main
 * frame of an app window showing app://workbench/ are refused, payloads go through the dispatcher.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL_PREFIX, requests } from '../../common/contract.ts';
import { isAppUrl } from '../../main/app-origin.ts';

const fake = vi.hoisted(() => ({
  handlers: new Map<string, (e: unknown, payload: unknown) => Promise<unknown>>(),
}));
vi.mock('electron', () => ({
  ipcMain: {
    handle: (ch: string, fn: (e: unknown, payload: unknown) => Promise<unknown>) => fake.handlers.set(ch, fn),
    removeHandler: (ch: string) => fake.handlers.delete(ch),
  },
}));

const dispatched: { channel: unknown; payload: unknown }[] = [];
const mainFrame = { parent: null, processId: 4, routingId: 1, url: 'app://workbench/index.html' };
const sender = { id: 7, mainFrame };
const event = (over: { frame?: object | null; sender?: object } = {}) => ({
  sender: over.sender ?? sender,
  senderFrame: over.frame === undefined ? mainFrame : over.frame,
});

let unregister: () => void;
beforeAll(async () => {
  const { registerIpc } = await import('../../main/ipc.ts');
  unregister = registerIpc({
    dispatch: async (channel, payload) => {
      dispatched.push({ channel, payload });
      return { ok: true, value: 'done' };
    },
    isAppUrl: (u) => isAppUrl(u),
    isAppWindow: (wc) => wc.id === 7,
  });
});

describe('validated IPC', () => {
  it('registers exactly one handler per request channel, under the prefix', () => {
    expect([...fake.handlers.keys()].sort()).toEqual(
      Object.keys(requests)
        .map((c) => CHANNEL_PREFIX + c)
        .sort(),
    );
  });

  it("passes requests of the app's main frame to the dispatcher", async () => {
    const h = fake.handlers.get(`${CHANNEL_PREFIX}workspace.list`)!;
    expect(await h(event(), {})).toEqual({ ok: true, value: 'done' });
    expect(dispatched.at(-1)).toEqual({ channel: 'workspace.list', payload: {} });
  });

  it('refuses iframes, foreign windows, foreign origins and vanished frames', async () => {
    const h = fake.handlers.get(`${CHANNEL_PREFIX}workspace.read`)!;
    const n = dispatched.length;
    const cases = [
      event({ frame: { parent: mainFrame, processId: 4, routingId: 2, url: 'app://workbench/index.html' } }),
      event({ frame: { ...mainFrame, routingId: 9, parent: null } }),
      event({ sender: { id: 8, mainFrame } }),
      event({
        frame: { ...mainFrame, url: 'https://evil.example/' },
        sender: { id: 7, mainFrame: { ...mainFrame, url: 'https://evil.example/' } },
      }),
      event({
        frame: { ...mainFrame, url: 'file:///etc/passwd' },
        sender: { id: 7, mainFrame: { ...mainFrame, url: 'file:///etc/passwd' } },
      }),
      event({ frame: null }),
    ];
    for (const e of cases)
      expect(await h(e, { name: 'a.ts' })).toMatchObject({
        ok: false,
        error: { code: 'failed', message: expect.stringMatching(/^refused: /) },
      });
    expect(dispatched.length).toBe(n);
  });

  it('removes its handlers', () => {
    unregister();
    expect(fake.handlers.size).toBe(0);
  });
});

describe('the app origin', () => {
  it('is app://workbench only (and the dev server in development)', () => {
    expect(isAppUrl('app://workbench/index.html')).toBe(true);
    expect(isAppUrl('app://workbench/assets/x.js')).toBe(true);
    for (const u of [
      'app://other/index.html',
      'app://workbench:1/x',
      'app://u:p@workbench/x',
      'https://workbench/',
      'file:///index.html',
      'http://localhost:5173/',
      'nonsense',
    ]) {
      expect(isAppUrl(u), u).toBe(false);
    }
    expect(isAppUrl('http://localhost:5173/src/main.ts', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
  });
});
