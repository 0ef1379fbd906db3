/**
 * The contract at the boundary: every payload is validated before anything runs, and every refusal is an
 * explicit reply whose message names the channel and the field.
 */
import { describe, expect, it } from 'vitest';
import { requests, type Reply } from '../../common/contract.ts';
import { createDispatch, UnsupportedError, type LocalHandlers } from '../../host/dispatch.ts';

function setup() {
  const ran: string[] = [];
  const engine = {
    request: async (channel: string, payload: unknown): Promise<Reply<unknown>> => {
      ran.push(channel);
      return { ok: true, value: { echo: payload } };
    },
  };
  const local = new Proxy({} as LocalHandlers, {
    get: (_t, ch: string) => async (req: unknown) => {
      ran.push(ch);
      if (ch === 'file.open') throw new UnsupportedError('no dialogs here');
      if (ch === 'workspace.read') throw new Error('disk on fire');
      return { local: req };
    },
  });
  return { ran, dispatch: createDispatch({ engine, local }) };
}

const invalid = (message: RegExp) => ({
  ok: false,
  error: { code: 'invalid', message: expect.stringMatching(message) },
});

describe('request validation', () => {
  it('passes valid payloads to the engine or to main', async () => {
    const { dispatch, ran } = setup();
    expect(await dispatch('inspect.state', { source: 'run-1', seq: 3 })).toEqual({
      ok: true,
      value: { echo: { source: 'run-1', seq: 3 } },
    });
    expect(await dispatch('workspace.list', {})).toEqual({ ok: true, value: { local: {} } });
    expect(ran).toEqual(['inspect.state', 'workspace.list']);
  });

  it('refuses unknown channels, whatever their type', async () => {
    const { dispatch, ran } = setup();
    for (const ch of ['run.explode', '__proto__', 'constructor', 'toString', 42, null, undefined, { a: 1 }]) {
      const r = await dispatch(ch, {});
      expect(r, String(ch)).toMatchObject({
        ok: false,
        error: { code: 'unknown-channel', message: expect.stringMatching(/^unknown channel/) },
      });
    }
    expect(ran).toEqual([]);
  });

  it('refuses malformed payloads, naming the field', async () => {
    const { dispatch, ran } = setup();
    expect(await dispatch('inspect.state', null)).toEqual(invalid(/^inspect\.state: /));
    expect(await dispatch('inspect.state', 'run-1')).toEqual(invalid(/^inspect\.state: /));
    expect(await dispatch('inspect.state', [])).toEqual(invalid(/^inspect\.state: /));
    expect(await dispatch('inspect.state', { source: 'run-1' })).toEqual(invalid(/^inspect\.state: seq /));
    expect(await dispatch('inspect.state', { source: 'run-1', seq: 1, extra: true })).toEqual(
      invalid(/^inspect\.state: extra /),
    );
    expect(await dispatch('inspect.state', { source: '../etc', seq: 1 })).toEqual(
      invalid(/^inspect\.state: source must be an id such as "run-3"/),
    );
    expect(await dispatch('workspace.read', { name: '../../.bashrc' })).toEqual(
      invalid(/^workspace\.read: name must be a file name ending in \.ts, without folders/),
    );
    expect(await dispatch('workspace.read', { name: 'a\\b.ts' })).toEqual(invalid(/^workspace\.read: name /));
    expect(
      await dispatch('inspect.find', { source: 'run-1', seq: 1, container: 1, slot: 0, iova: '0xZZ' }),
    ).toEqual(invalid(/^inspect\.find: iova must be a hex string/));
    expect(ran).toEqual([]);
  });

  it('refuses wrongly typed payloads, naming the field', async () => {
    const { dispatch, ran } = setup();
    expect(await dispatch('inspect.state', { source: 'run-1', seq: '3' })).toEqual(
      invalid(/^inspect\.state: seq /),
    );
    expect(await dispatch('inspect.state', { source: 'run-1', seq: 1.5 })).toEqual(
      invalid(/^inspect\.state: seq /),
    );
    expect(await dispatch('inspect.state', { source: 'run-1', seq: -1 })).toEqual(
      invalid(/^inspect\.state: seq /),
    );
    expect(await dispatch('run.start', { source: 'x', filename: 'a.ts', kernel: '5.0' })).toEqual(
      invalid(/^run\.start: kernel /),
    );
    expect(
      await dispatch('inspect.entries', {
        source: 'run-1',
        seq: 1,
        container: 1,
        slot: 2,
        from: 0,
        count: 1,
        validOnly: true,
      }),
    ).toEqual(invalid(/^inspect\.entries: slot /));
    expect(
      await dispatch('inspect.entries', {
        source: 'run-1',
        seq: 1,
        container: 1,
        slot: 0,
        from: 0,
        count: 1,
        validOnly: 'yes',
      }),
    ).toEqual(invalid(/^inspect\.entries: validOnly /));
    expect(await dispatch('export.snapshot', { source: 'run-1', seq: 1, includeEvents: 1 })).toEqual(
      invalid(/^export\.snapshot: includeEvents /),
    );
    expect(ran).toEqual([]);
  });

  it('refuses oversized payloads, naming the field and the limit', async () => {
    const { dispatch, ran } = setup();
    const big = 'x'.repeat(2 * 1024 * 1024 + 1);
    expect(await dispatch('workspace.write', { name: 'a.ts', text: big })).toEqual(
      invalid(/^workspace\.write: text is larger than 2 MiB/),
    );
    expect(await dispatch('run.start', { source: big, filename: 'a.ts', kernel: 'mainline' })).toEqual(
      invalid(/^run\.start: source is larger than 2 MiB/),
    );
    expect(await dispatch('inspect.rows', { source: 'run-1', from: 0, count: 100_001 })).toEqual(
      invalid(/^inspect\.rows: count /),
    );
    expect(
      await dispatch('inspect.entries', {
        source: 'run-1',
        seq: 1,
        container: 1,
        slot: 0,
        from: 0,
        count: 10_001,
        validOnly: true,
      }),
    ).toEqual(invalid(/^inspect\.entries: count /));
    expect(
      await dispatch('inspect.occupancy', { source: 'run-1', seq: 1, container: 1, slot: 0, buckets: 5000 }),
    ).toEqual(invalid(/^inspect\.occupancy: buckets /));
    expect(await dispatch('workspace.create', { name: 'a'.repeat(300) + '.ts' })).toEqual(
      invalid(/^workspace\.create: name /),
    );
    expect(ran).toEqual([]);
  });

  it('refuses an unexpected field on every channel', async () => {
    const { dispatch } = setup();
    for (const ch of Object.keys(requests)) {
      const r = await dispatch(ch, { unexpected: 1 });
      expect(r.ok, ch).toBe(false);
    }
  });

  it("turns failures of main's own handlers into explicit replies", async () => {
    const { dispatch } = setup();
    expect(await dispatch('file.open', {})).toEqual({
      ok: false,
      error: { code: 'unsupported', message: 'no dialogs here' },
    });
    expect(await dispatch('workspace.read', { name: 'a.ts' })).toEqual({
      ok: false,
      error: { code: 'failed', message: 'disk on fire' },
    });
  });
});
