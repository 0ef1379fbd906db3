/**
 * Browser mode's wire protocol: the typed IPC contract (common/contract.ts) over one WebSocket, so the
 * built renderer can run in a plain browser against the same engine worker and the same validation.
 *
 * Connecting
 *   `npm run serve [-- --port N] [-- --workspace DIR]` prints `http://127.0.0.1:PORT/?token=TOKEN`. The
 *   server listens on 127.0.0.1 only, and TOKEN is random per start. Every HTTP request and the WebSocket
 *   upgrade must carry the token, either as the `token` query parameter or as the HttpOnly cookie
 *   `dmawb_token_PORT` that the server sets on the page response. Requests whose Host is not the server's
 *   own (127.0.0.1:PORT or localhost:PORT) are refused with 403 (DNS rebinding), and so is any request with
 *   an Origin other than the server's own; the WebSocket upgrade MUST send the page's Origin. A refused
 *   upgrade gets `HTTP/1.1 403` and the socket is closed.
 *
 *   The WebSocket endpoint is `ws://127.0.0.1:PORT/ws` (common/wire.ts: WS_PATH, wsUrlFor(location.href)
 *   builds it from the page URL and carries the token over).
 *
 * Messages (JSON text frames; types in common/wire.ts)
 *   client → server  { "id": 7, "channel": "inspect.state", "payload": { "source": "run-1", "seq": 42 } }
 *   server → client  { "id": 7, "reply": { "ok": true, "value": { … StateView … } } }
 *                    { "id": 7, "reply": { "ok": false, "error": { "code": "invalid", "message": "inspect.state: seq …" } } }
 *   server → client  { "event": "run.events", "payload": { "source": "run-1", "rows": [ … ] } }   (no id)
 *
 *   - `id` is a non-negative integer chosen by the client; replies may arrive out of order (a run.stop is
 *     answered while a run is executing; other requests wait for it). Match replies by id.
 *   - Every payload is validated exactly as the desktop IPC validates it; error codes are those of the
 *     contract's Reply: 'invalid', 'unknown-channel', 'failed', 'unsupported'.
 *   - A frame that is not a JSON object with an integer id and a string channel gets a reply with
 *     `id: null` (or its id, if it had one) and code 'invalid'; so does a frame larger than
 *     WS_MAX_MESSAGE_BYTES (up to 16 MiB over it; beyond that the connection is closed with 1009 before the
 *     frame is buffered). Binary frames close the connection (1003); a frame that breaks the WebSocket
 *     protocol (invalid UTF-8, a reserved opcode, an unmasked frame) closes it with ws's code (1007,
 *     1002). No frame takes the server down: every socket has an error handler.
 *   - A client that stops reading gets no more than about 8 MiB queued: past that its 'run.events' frames
 *     are held back, and the rows it missed are sent in order (fetched again from the engine) once it reads
 *     again, followed by the run's 'run.done', which always arrives and always comes last.
 *   - Events go to every connected client: 'run.events', 'run.done', 'engine.restarted'. ('command.run' is
 *     desktop-only: there is no application menu in a browser.)
 *
 * Differences from the desktop app
 *   - workspace.list/read/write/create work on the same workspace folder as the desktop app (its setting,
 *     the default under Documents, or --workspace DIR).
 *   - workspace.choose, file.saveAs and file.open answer { ok: false, error: { code: 'unsupported' } }:
 *     the renderer downloads exports and uploads files (snapshot.import takes the text) instead.
 *   - app.info says mode 'browser'.
 */
import type { WireRequest } from '../common/wire.ts';

export type { ServerMessage, WireEvent, WireReply, WireRequest } from '../common/wire.ts';

/** reads one client frame; returns the request, or the id (if any) and why it was refused */
export function parseClientMessage(
  text: string,
): { ok: true; request: WireRequest } | { ok: false; id: number | null; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, id: null, message: 'the message is not valid JSON' };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, id: null, message: 'the message must be a JSON object { id, channel, payload }' };
  const m = raw as Record<string, unknown>;
  const id = m['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
    return { ok: false, id: null, message: 'id must be a non-negative integer' };
  if (typeof m['channel'] !== 'string') return { ok: false, id, message: 'channel must be a string' };
  return { ok: true, request: { id, channel: m['channel'], payload: m['payload'] } as WireRequest };
}
