/**
 * Issue 12, item 3: an import too large for one WebSocket frame (a snapshot under the 64 MiB import limit
 * whose JSON escapes push it past the frame limit) is refused in the renderer with a message, before it is
 * sent, instead of being dropped by the server and never answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as NodeWebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { WS_MAX_MESSAGE_BYTES } from '../../common/wire';
import { createWsBridge } from '../../renderer/src/bridge/ws';
import type { Bridge } from '../../renderer/src/bridge/api';
import { until } from './helpers';

let wss: WebSocketServer | null = null;
let bridge: Bridge | null = null;
afterEach(async () => {
  bridge?.close?.();
  if (wss) {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss!.close(r));
  }
});

describe('the WebSocket client and the frame limit', () => {
  it('refuses a request larger than the frame limit before sending it', async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 });
    await new Promise((r) => wss!.once('listening', r));
    let received = 0;
    wss.on('connection', (ws) => ws.on('message', () => received++));
    let state = '';
    bridge = createWsBridge({
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws?token=t`,
      timeoutMs: 60_000,
      WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
    });
    bridge.onConnection?.((s) => (state = s));
    await until(() => state === 'open', 'the connection');
    // 50 MiB of quotes: under the 64 MiB import limit, about 100 MiB once JSON-escaped
    const text = '"'.repeat(50 * 1024 * 1024);
    const reply = await bridge['snapshot.import']({ text });
    expect(reply).toMatchObject({
      ok: false,
      error: {
        code: 'invalid',
        message: expect.stringMatching(/larger than browser mode's \d+-byte message limit/),
      },
    });
    expect(received).toBe(0);
    expect(WS_MAX_MESSAGE_BYTES).toBeLessThan(100 * 1024 * 1024);
  });
});
