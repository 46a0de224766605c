/**
 * One emulated connection as the session layer sees it: the server's half of a protocol
 * connection written into a long HTTP response, for clients behind proxies that break
 * WebSocket (the centrifuge client's `http_stream` and `sse` transports). Three framings:
 * HTTP streaming with JSON (each reply or push, then a newline), HTTP streaming with Protobuf
 * (the varint-delimited replies as they are), and Server-Sent Events (each frame as one `data:`
 * event, JSON only). The client's half — its commands after connect — comes through
 * POST /emulation (emulation.ts).
 *
 * A WebSocket learns the close code from its close frame; here the session's disconnect is
 * written as a disconnect push before the response ends, so the client applies the same
 * reconnect rule. Shared messages are written from their text or bytes: the WebSocket frame
 * cached on them is no use here (fallback transports are rare; building their bytes per write
 * costs a copy, not an encoding).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SharedMessage } from '../hub/shared-message.js';
import type { Codec } from '../protocol/codec.js';
import { reconnects } from '../protocol/codes.js';
import type { SessionConnection } from '../session/context.js';

/** How the response carries frames. */
export type StreamFraming = 'http_stream' | 'sse';

export class HttpStreamConnection implements SessionConnection {
  readonly remoteAddress: string | undefined;
  readonly transport: StreamFraming;
  readonly #res: ServerResponse;
  readonly #framing: StreamFraming;
  readonly #codec: Codec;
  #ended = false;

  constructor(req: IncomingMessage, res: ServerResponse, framing: StreamFraming, codec: Codec) {
    this.remoteAddress = req.socket.remoteAddress;
    this.#res = res;
    this.#framing = framing;
    this.transport = framing;
    this.#codec = codec;
  }

  /** Whether the response is still open for writing. */
  get open(): boolean {
    return !this.#ended && !this.#res.destroyed && this.#res.writable;
  }

  writeText(text: string): void {
    if (!this.open) return;
    if (this.#framing === 'sse') this.#res.write(sseEvent(text));
    else this.#res.write(`${text}\n`);
  }

  writeBinary(bytes: Uint8Array): void {
    // Protobuf replies carry their own lengths: the stream is their concatenation.
    if (this.open) this.#res.write(bytes);
  }

  writeShared(message: SharedMessage): void {
    if (message.bytes) this.writeBinary(message.bytes);
    else this.writeText(message.text);
  }

  /** Bytes accepted for sending but not yet handed to the kernel: the response's and the socket's buffers. */
  unsentBytes(): number {
    return this.#res.writableLength + (this.#res.socket?.writableLength ?? 0);
  }

  cork(): void {
    if (this.open) this.#res.cork();
  }

  uncork(): void {
    if (this.open) this.#res.uncork();
  }

  /** Commands come by separate requests (POST /emulation): there is no stream to stop reading. */
  pauseReading(): void {}

  resumeReading(): void {}

  /** Writes the disconnect push (code, reason, whether to reconnect), then ends the response. */
  closeWith(code: number, reason: string): void {
    if (!this.open) return;
    const push = this.#codec.disconnectPush(code, reason, reconnects(code));
    if (typeof push === 'string') this.writeText(push);
    else this.writeBinary(push);
    this.#ended = true;
    this.#res.end();
  }
}

/** One Server-Sent Event holding `text`; each of its lines is a `data:` line (the client's EventSource joins them with newlines). */
export function sseEvent(text: string): string {
  return text.indexOf('\n') === -1 ? `data: ${text}\n\n` : `data: ${text.split('\n').join('\ndata: ')}\n\n`;
}
