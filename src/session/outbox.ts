/**
 * Per-connection outbound batching: what one turn of the event loop produced for a connection
 * leaves in one write. Replies and pushes made for this connection alone are joined into one
 * frame (newline-delimited JSON, as the protocol allows); a message shared by many connections
 * (a publication) keeps its own bytes, built once for all of them, so batching never re-encodes
 * it per subscriber. Past `maxBytes` queued (here and in the socket), the connection is a slow
 * consumer: the queue is dropped and `onOverflow` runs once (the session disconnects it with a
 * reconnect-allowed code, and the client recovers what it missed). A single message into an
 * empty pipeline always passes: a publication larger than the limit cuts nobody off.
 */
import type { SharedMessage } from '../hub/shared-message.js';

/** Where an outbox's messages go: one connection. */
export interface MessageSink {
  writeText(text: string): void;
  /** Writes Protobuf replies (each length-prefixed) as one binary frame. */
  writeBinary(bytes: Uint8Array): void;
  writeShared(message: SharedMessage): void;
  /** Bytes accepted for sending but not yet handed to the kernel. */
  unsentBytes(): number;
  /** Holds writes until uncork(), so several frames leave in one system call. */
  cork(): void;
  uncork(): void;
}

/** A reply or push of this connection alone (JSON text or Protobuf bytes), or one shared with others. */
type Item = string | Uint8Array | SharedMessage;

/**
 * The outboxes with something queued this turn, flushed together at its end: one scheduled
 * callback per turn for a whole server, never one per connection. `defer` runs a function at
 * the end of the turn (setImmediate); tests pass one they call by hand.
 */
export class FlushQueue {
  readonly #defer: (fn: () => void) => void;
  #pending: Outbox[] = [];
  #scheduled = false;

  constructor(defer: (fn: () => void) => void = setImmediate) {
    this.#defer = defer;
  }

  /** Flushes `outbox` at the end of this turn, with every other one added this turn. */
  add(outbox: Outbox): void {
    this.#pending.push(outbox);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#defer(this.#flushAll);
  }

  readonly #flushAll = (): void => {
    this.#scheduled = false;
    const outboxes = this.#pending;
    this.#pending = [];
    for (const o of outboxes) o.flush();
  };
}

export class Outbox {
  readonly #sink: MessageSink;
  readonly #maxBytes: number;
  readonly #onOverflow: () => void;
  readonly #flushes: FlushQueue;
  #items: Item[] = [];
  #bytes = 0;
  /** What the socket held unsent when this turn's first item came: our own writes happen at flush. */
  #unsent = 0;
  #scheduled = false;
  #closed = false;

  constructor(sink: MessageSink, maxBytes: number, flushes: FlushQueue, onOverflow: () => void) {
    this.#sink = sink;
    this.#maxBytes = maxBytes;
    this.#flushes = flushes;
    this.#onOverflow = onOverflow;
  }

  /** Queues one reply or push for this turn's write; ignored once closed. */
  push(item: Item): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#bytes += typeof item === 'string' ? Buffer.byteLength(item) : item.byteLength;
    if (this.#items.length === 1) this.#unsent = this.#sink.unsentBytes();
    const unsent = this.#unsent;
    // One message alone is always accepted: a publication larger than the limit must not cut
    // every subscriber; the limit is for a backlog that grows because the client does not read.
    if (this.#bytes + unsent > this.#maxBytes && (this.#items.length > 1 || unsent > 0)) {
      this.#closed = true;
      this.#items = [];
      this.#bytes = 0;
      this.#onOverflow();
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#flushes.add(this);
  }

  /**
   * Writes what is queued in one write: runs of this connection's own messages as one text
   * frame each, shared messages as their shared bytes. Safe to call at any time.
   */
  flush(): void {
    this.#scheduled = false;
    const items = this.#items;
    if (items.length === 0) return;
    this.#items = [];
    this.#bytes = 0;
    if (items.length === 1) {
      const only = items[0]!;
      if (typeof only === 'string') this.#sink.writeText(only);
      else if (only instanceof Uint8Array) this.#sink.writeBinary(only);
      else this.#sink.writeShared(only);
      return;
    }
    const sink = this.#sink;
    sink.cork();
    let text: string | undefined;
    let bytes: Uint8Array[] | undefined;
    for (const item of items) {
      if (typeof item === 'string') {
        text = text === undefined ? item : `${text}\n${item}`;
        continue;
      }
      if (item instanceof Uint8Array) {
        // Protobuf replies carry their own lengths: a run of them is one binary frame.
        (bytes ??= []).push(item);
        continue;
      }
      if (text !== undefined) {
        sink.writeText(text);
        text = undefined;
      }
      if (bytes !== undefined) {
        sink.writeBinary(concat(bytes));
        bytes = undefined;
      }
      sink.writeShared(item);
    }
    if (text !== undefined) sink.writeText(text);
    if (bytes !== undefined) sink.writeBinary(concat(bytes));
    sink.uncork();
  }

  /** Writes what is queued now and accepts nothing more. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
