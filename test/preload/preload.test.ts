/**
 * The preload with `electron` replaced by a fake (the real module is never loaded): it exposes exactly one
 * named function per request channel and `on` for the contract's events, nothing generic.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL_PREFIX, EVENT_CHANNELS, requests } from '../../common/contract.ts';

const fake = vi.hoisted(() => ({
  exposed: {} as Record<string, unknown>,
  invoked: [] as { channel: string; args: unknown[] }[],
  listeners: new Map<string, Set<(...a: unknown[]) => void>>(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (fake.exposed[key] = api) },
  ipcRenderer: {
    invoke: async (channel: string, ...args: unknown[]) => {
      fake.invoked.push({ channel, args });
      return { ok: true, value: 'from main' };
    },
    on: (channel: string, fn: (...a: unknown[]) => void) => {
      if (!fake.listeners.has(channel)) fake.listeners.set(channel, new Set());
      fake.listeners.get(channel)!.add(fn);
    },
    removeListener: (channel: string, fn: (...a: unknown[]) => void) =>
      fake.listeners.get(channel)?.delete(fn),
    send: () => {
      throw new Error('the preload must not use ipcRenderer.send');
    },
  },
}));

type Api = Record<string, (...a: unknown[]) => unknown>;
let api: Api;
beforeAll(async () => {
  await import('../../preload/index.ts');
  api = fake.exposed['dmawb'] as Api;
});

describe('window.dmawb', () => {
  it('has one function per request channel, plus on, and nothing else', () => {
    expect(Object.keys(api).sort()).toEqual([...Object.keys(requests), 'on'].sort());
    for (const k of Object.keys(api)) expect(typeof api[k], k).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
    expect(api['send']).toBeUndefined();
    expect(api['invoke']).toBeUndefined();
  });

  it('sends each request on its own prefixed channel with the payload only', async () => {
    expect(await api['inspect.state']!({ source: 'run-1', seq: 2 })).toEqual({
      ok: true,
      value: 'from main',
    });
    expect(fake.invoked.at(-1)).toEqual({
      channel: `${CHANNEL_PREFIX}inspect.state`,
      args: [{ source: 'run-1', seq: 2 }],
    });
  });

  it("subscribes only to the contract's events, hides the IPC event object, and unsubscribes", () => {
    const got: unknown[] = [];
    const off = api['on']!('run.done', (p: unknown) => got.push(p)) as () => void;
    const ls = fake.listeners.get(`${CHANNEL_PREFIX}run.done`)!;
    for (const l of ls) l({ sender: 'secret IpcRendererEvent' }, { source: 'run-1' });
    expect(got).toEqual([{ source: 'run-1' }]);
    off();
    expect(ls.size).toBe(0);
    expect(() => api['on']!('dmawb:anything', () => undefined)).toThrow(/unknown event/);
    expect(() => api['on']!('ELECTRON_BROWSER_REQUIRE', () => undefined)).toThrow(/unknown event/);
    expect(EVENT_CHANNELS).toContain('command.run');
  });
});
