/**
 * Encode once, write many (STYLE rule 7): a message that goes to many connections is turned
 * into one complete WebSocket text frame — header and UTF-8 payload, built by ws's own
 * `Sender.frame` — the first time a connection writes it alone, and every other connection
 * writes the same bytes. Server frames are never masked (RFC 6455 §5.1), so the bytes are the
 * same for every peer.
 */
import * as ws from 'ws';

const TEXT_OPCODE = 0x1;

export class SharedFrame {
  readonly text: string;
  #frame: Buffer | undefined;
  #byteLength = -1;

  constructor(text: string) {
    this.text = text;
  }

  /** The payload's size in bytes of UTF-8, computed once. */
  get byteLength(): number {
    if (this.#byteLength < 0) this.#byteLength = Buffer.byteLength(this.text);
    return this.#byteLength;
  }

  /** The whole frame, built on first use. */
  get frame(): Buffer {
    if (!this.#frame) {
      const payload = Buffer.from(this.text);
      const parts = Sender.frame(payload, {
        fin: true, opcode: TEXT_OPCODE, mask: false, readOnly: false, rsv1: false,
      });
      this.#frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    return this.#frame;
  }
}

interface SenderStatics {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}

/** ws exports its Sender (wrapper.mjs) but @types/ws does not declare it. */
const Sender = (ws as unknown as { Sender: SenderStatics }).Sender;
