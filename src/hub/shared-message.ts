/**
 * A message that many connections receive — a publication push, a join or leave, a plain
 * client's text — encoded once (STYLE rule 7). The hub makes it; each connection's transport
 * turns it into wire bytes the first time one writes it and keeps them in {@link wire}, so
 * every other connection writes the same bytes. The hub never frames anything itself.
 */
export class SharedMessage {
  readonly text: string;
  #byteLength = -1;
  /**
   * The transport's wire form of this message (a complete WebSocket frame for `ws`), made by
   * the first connection that writes it alone. Only the transport reads or sets it.
   */
  wire: Uint8Array | undefined = undefined;

  constructor(text: string) {
    this.text = text;
  }

  /** The text's size in bytes of UTF-8, computed once (slow-consumer accounting). */
  get byteLength(): number {
    if (this.#byteLength < 0) this.#byteLength = Buffer.byteLength(this.text);
    return this.#byteLength;
  }
}
