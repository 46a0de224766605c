/**
 * Per-connection outbound batching: what one turn of the event loop produced for a connection
 * leaves in one write. Replies and pushes made for this connection alone are joined into one
 * frame (newline-delimited JSON, as the protocol allows); a message shared by many connections
 * (a publication) keeps its own bytes, built once for all of them, so batching never re-encodes
 * it per subscriber. Past `maxBytes` queued (here and in the socket), the connection is a slow
 * consumer: the queue is dropped and the push that overflowed says so, once (the session
 * disconnects it with a reconnect-allowed code, and the client recovers what it missed). A single
 * message into an empty pipeline always passes: a publication larger than the limit cuts nobody
 * off.
 */
import type { SharedMessage } from '../hub/shared-message.js';

/** Where an outbox's messages go: one connection. */
export interface MessageSink {
  writeText(text: string): void;
  /** Writes `bytes` as one binary frame (Protobuf replies). */
  writeBinary(bytes: Uint8Array): void;
  writeShared(message: SharedMessage): void;
  /**
   * Bytes accepted for sending but not yet handed to the kernel. `message`: the shared message
   * about to be written, when the outbox asks before writing one (a transport that already sent
   * it natively may know the answer without asking the socket).
   */
  unsentBytes(message?: SharedMessage): number;
  /** Holds writes until uncork(), so several frames leave in one system call. */
  cork(): void;
  uncork(): void;
  /**
   * The connection's subscription to `channel` ended: from now on it must not receive that
   * channel's shared messages (a transport that fans them out natively drops it from the
   * channel's audience). Optional: a sink that writes each message itself needs nothing.
   */
  channelEnded?(channel: string): void;
  /**
   * A message of `channel` that is not one of its fanned-out messages (SharedMessage.channel
   * unset: a join, a leave, a per-subscriber push) waits in the outbox: until the connection
   * writes one of the channel's fanned-out messages itself, no other path may deliver them to
   * it, or a later one would overtake the waiting message. Optional: a sink that writes each
   * message itself needs nothing (the Node transport).
   */
  holdChannel?(channel: string): void;
  /**
   * Optional: the byte stream under the connection, for the outbox to write shared messages to
   * itself through the transport's {@link DirectWrites} (OutboxSettings.direct), and the bytes to
   * write: `message.wire`, which {@link frameOf} makes the first time. Asked only when the
   * settings have DirectWrites. The connection keeps `owner` and calls its
   * {@link Outbox.connectionClosing} before it sends anything that must be the last thing written
   * (a closing frame); after that the outbox writes through the sink again. Undefined: always the sink.
   */
  directWriter?(owner: Outbox): DirectWriter | undefined;
  /** The bytes of `message` on the wire, cached in `message.wire` (with {@link directWriter}). */
  frameOf?(message: SharedMessage): Uint8Array;
}

/** A connection's byte stream as its transport's {@link DirectWrites} know it (Node: the TCP socket). */
export type DirectWriter = object;

/**
 * How outboxes write to the byte streams under their connections: the transport's, one object
 * for all of them (OutboxSettings.direct), so that an outbox keeps only its stream.
 */
export interface DirectWrites {
  /**
   * Bytes accepted for `stream` but not yet handed to the kernel. `afterAsync`: a write of
   * {@link write}'s went asynchronous since a call found none (it may need to look further).
   */
  unsent(stream: DirectWriter, afterAsync: boolean): number;
  /**
   * Writes `bytes` after everything written to `stream` before; nothing once it is no longer
   * writable. Returns true when the kernel did not take every byte at once.
   */
  write(stream: DirectWriter, bytes: Uint8Array): boolean;
}

/** A reply or push of this connection alone (JSON text, or Protobuf bytes), or a message shared by many. */
type Item = string | Uint8Array | SharedMessage;

/**
 * The outboxes with something queued this turn, flushed together at its end: one scheduled
 * callback per turn for a whole server, never one per connection. `defer` runs a function at
 * the end of the turn (setImmediate); tests pass one they call by hand.
 */
export class FlushQueue {
  readonly #defer: (fn: () => void) => void;
  /**
   * This turn's outboxes are `#pending[0..#count)`. The array keeps its size between turns (its
   * slots are cleared, not removed: shrinking it made every turn grow it again, a slice of
   * garbage per delivery), and a second one takes the next turn's while this one flushes.
   */
  #pending: Array<Outbox | undefined> = [];
  #count = 0;
  #spare: Array<Outbox | undefined> = [];
  #scheduled = false;
  /** Which turn of the event loop it is, as far as outboxes can tell: it moves on at each end of turn this queue runs. */
  turn = 0;

  constructor(defer: (fn: () => void) => void = setImmediate) {
    this.#defer = defer;
  }

  /** Flushes `outbox` at the end of this turn, with every other one added this turn. */
  add(outbox: Outbox): void {
    this.#pending[this.#count++] = outbox;
    this.#endTurn();
  }

  /** An outbox wrote directly this turn: make sure the turn is seen to end, so its next turn may too. */
  noteDirect(): void {
    this.#endTurn();
  }

  #endTurn(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#defer(this.#flushAll);
  }

  readonly #flushAll = (): void => {
    this.#scheduled = false;
    this.turn++;
    const outboxes = this.#pending;
    const count = this.#count;
    this.#pending = this.#spare;
    this.#count = 0;
    for (let i = 0; i < count; i++) {
      outboxes[i]!.flush();
      outboxes[i] = undefined;
    }
    this.#spare = outboxes;
  };
}

/** What every outbox of a server shares: one object, so an outbox holds a reference, not copies. */
export interface OutboxSettings {
  /** Bytes queued (here and in the socket) past which a connection is a slow consumer. */
  readonly maxBytes: number;
  readonly flushes: FlushQueue;
  /** How this server's transport writes to its connections' streams directly, if it does (MessageSink.directWriter). */
  readonly direct?: DirectWrites | undefined;
}

/**
 * A turn's items past the first are kept in an array that survives the turn only when it held
 * more than this many: a busy connection (a burst of publications) reuses it, an idle one (a
 * reply or two) lets it go — 150 bytes per idle connection otherwise.
 */
const KEEP_REST_OVER = 4;

/** The bits of Outbox's flags. */
const SCHEDULED = 1;
const CLOSED = 2;
/** The socket held unsent bytes when this turn's first item came: our own writes happen at flush. */
const UNSENT = 4;
/** A direct write went asynchronous, and no check since found the stream empty (DirectWrites.unsent). */
const DIRECT_ASYNC = 8;

/**
 * A connection's outbound queue. A session class extends it rather than holding one, so the
 * queue's fields live in the session object itself: one object (about 40 bytes) fewer per
 * connection, and one pointer fewer to follow per delivery (docs/benchmarks.md). Its methods are
 * named for the queue (enqueue, closeOutbox, outboxClosed) so that they do not clash with the
 * session's own.
 */
export class Outbox<S extends MessageSink = MessageSink> {
  // The fields a delivery reads come first, together: fewer cache lines per subscriber.
  /** SCHEDULED, CLOSED, UNSENT and DIRECT_ASYNC. */
  #flags = 0;
  /**
   * This turn's items: the first in `#first` (a turn with one item, as in a fan-out, allocates
   * nothing), the others in `#rest[0..#restCount)`, whose slots are cleared after a flush, not
   * removed (see FlushQueue). Profiled: a new array per connection per turn was 370 bytes of
   * garbage per delivery (docs/benchmarks.md).
   */
  #first: Item | undefined = undefined;
  /** The turn (FlushQueue.turn) in which this outbox last wrote directly; -1: never. */
  #directTurn = -1;
  /**
   * The byte stream under the connection, when its transport has one (MessageSink.directWriter):
   * a shared message written at once goes straight to it, so a delivery reads the stream and not
   * the connection object between them (profiled at 10,000 subscribers: each further object a
   * delivery reads costs about 4% of its CPU in cache misses, docs/benchmarks.md). Undefined once
   * the connection began to close.
   */
  #writer: DirectWriter | undefined;
  readonly #settings: OutboxSettings;
  /** Where the messages go: the connection. */
  protected readonly sink: S;
  #rest: Array<Item | undefined> | undefined = undefined;
  #restCount = 0;
  /**
   * What the socket held unsent when this turn's first item came, plus this turn's items' bytes:
   * the sum is what the limit is checked against, so one field holds it (UNSENT says whether the
   * first part was more than nothing).
   */
  #pending = 0;

  constructor(sink: S, settings: OutboxSettings) {
    this.#writer = settings.direct !== undefined ? sink.directWriter?.(this) : undefined;
    this.#settings = settings;
    this.sink = sink;
  }

  /** The connection is about to send its closing frame: nothing may be written past it but through the sink, which knows. */
  connectionClosing(): void {
    this.#writer = undefined;
  }

  /**
   * Sends one reply or push: at once when it is this turn's first for the connection (nothing
   * queued: a fan-out touches each connection once, and writes in that same pass), else queued
   * for the end of the turn, joined with the turn's others in one write. Ignored once closed.
   * `channel` names the channel the item is a push of (a join, leave or publication), so that a
   * queued one keeps the channel's later fanned-out messages behind it (MessageSink.holdChannel).
   * Returns true when this push overflowed the byte limit (the outbox is then closed, and no later
   * push returns true): the caller disconnects the slow consumer. Returning it, rather than
   * calling back an owner, saves every connection's outbox a field.
   */
  enqueue(item: Item, channel?: string): boolean {
    if ((this.#flags & CLOSED) !== 0) return false;
    const alone = this.#first === undefined;
    const settings = this.#settings;
    const flushes = settings.flushes;
    if (alone && this.#directTurn !== flushes.turn) {
      // Profiled at 10,000 subscribers: a second pass over every connection at the end of the
      // turn (deferring each write) cost about 1 µs per delivery in cache misses alone.
      const writer = this.#writer;
      const shared = isShared(item);
      let unsent: number;
      if (writer === undefined) {
        unsent = this.sink.unsentBytes(shared ? item : undefined);
      } else {
        const afterAsync = (this.#flags & DIRECT_ASYNC) !== 0;
        unsent = settings.direct!.unsent(writer, afterAsync);
        if (afterAsync && unsent === 0) this.#flags &= ~DIRECT_ASYNC;
      }
      if ((unsent > 0 || (shared && item.count > 1)) && unsent + sizeOf(item) > settings.maxBytes) {
        this.#flags |= CLOSED;
        return true;
      }
      this.#directTurn = flushes.turn;
      flushes.noteDirect();
      if (writer === undefined || !shared) writeOne(this.sink, item);
      else if (settings.direct!.write(writer, item.wire ?? this.sink.frameOf!(item))) this.#flags |= DIRECT_ASYNC;
      return false;
    }
    if (alone) {
      this.#first = item;
      const unsent = this.sink.unsentBytes();
      this.#pending = unsent;
      this.#flags = unsent > 0 ? this.#flags | UNSENT : this.#flags & ~UNSENT;
    } else {
      (this.#rest ??= [])[this.#restCount++] = item;
    }
    this.#pending += sizeOf(item);
    // One message alone is always accepted: a publication larger than the limit must not cut
    // every subscriber; the limit is for a backlog that grows because the client does not read.
    if (this.#pending > this.#settings.maxBytes && (!alone || (this.#flags & UNSENT) !== 0 || countOf(item) > 1)) {
      this.#flags |= CLOSED;
      // The queue is dropped: nothing of it will be written.
      this.#first = undefined;
      this.#rest = undefined;
      this.#restCount = 0;
      this.#pending = 0;
      return true;
    }
    if (channel !== undefined && !isFannedOut(item)) this.sink.holdChannel?.(channel);
    if ((this.#flags & SCHEDULED) !== 0) return false;
    this.#flags |= SCHEDULED;
    flushes.add(this);
    return false;
  }

  /**
   * Writes what is queued in one write: runs of this connection's own messages as one text
   * frame each, shared messages as their shared bytes. Safe to call at any time.
   */
  flush(): void {
    this.#flags &= ~SCHEDULED;
    const first = this.#first;
    if (first === undefined) return;
    const sink = this.sink;
    const count = this.#restCount;
    this.#first = undefined;
    this.#pending = 0;
    if (count === 0) {
      writeOne(sink, first);
      return;
    }
    const rest = this.#rest!;
    this.#restCount = 0;
    if (count <= KEEP_REST_OVER) this.#rest = undefined;
    sink.cork();
    let text: string | undefined;
    let bytes: Uint8Array[] | undefined;
    for (let i = -1; i < count; i++) {
      const item = i < 0 ? first : rest[i]!;
      if (i >= 0) rest[i] = undefined;
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
  closeOutbox(): void {
    if (this.outboxClosed) return;
    this.flush();
    this.#flags |= CLOSED;
  }

  get outboxClosed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }
}

/**
 * Writes one item to `sink`. A module function, not a private method: a class with private
 * methods gives each instance V8's private brand, a field (8 bytes per connection on Node).
 */
function writeOne(sink: MessageSink, item: Item): void {
  if (typeof item === 'string') sink.writeText(item);
  else if (item instanceof Uint8Array) sink.writeBinary(item);
  else sink.writeShared(item);
}

function sizeOf(item: Item): number {
  return typeof item === 'string' ? Buffer.byteLength(item) : item.byteLength;
}

function isShared(item: Item): item is SharedMessage {
  return typeof item === 'object' && !(item instanceof Uint8Array);
}

/** How many messages an item carries (a turn's publications may travel as one). */
function countOf(item: Item): number {
  return isShared(item) ? item.count : 1;
}

/** Whether a transport may fan `item` out natively: a message the hub marked with its channel. */
function isFannedOut(item: Item): boolean {
  return isShared(item) && item.channel !== undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
