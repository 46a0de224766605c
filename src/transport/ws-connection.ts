/**
 * One WebSocket as the session layer sees it: write text, write a shared frame, read how much
 * is waiting, close with a code. One small object per connection; methods are on the prototype.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { SharedFrame } from './shared-frame.js';
import { closeSocket, corkSocket, uncorkSocket, unsentBytes, writeShared, writeText } from './socket-writer.js';

export class WsConnection {
  readonly ws: WebSocket;
  readonly remoteAddress: string | undefined;

  constructor(ws: WebSocket, req: IncomingMessage) {
    this.ws = ws;
    this.remoteAddress = req.socket.remoteAddress;
  }

  writeText(text: string): void {
    writeText(this.ws, text);
  }

  writeShared(frame: SharedFrame): void {
    writeShared(this.ws, frame);
  }

  unsentBytes(): number {
    return unsentBytes(this.ws);
  }

  close(code: number, reason: string): void {
    closeSocket(this.ws, code, reason);
  }

  cork(): void {
    corkSocket(this.ws);
  }

  uncork(): void {
    uncorkSocket(this.ws);
  }

  pause(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.pause();
  }

  resume(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.resume();
  }
}
