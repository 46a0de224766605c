/**
 * The per-connection outbox: the first message of a turn is written at once; what else the turn
 * brings leaves in one write at its end (corked): the connection's own lines joined by '\n' into
 * one frame, shared messages as their shared bytes. A client that does not read is cut off once,
 * past its byte limit, instead of growing our memory. The end of the turn is a FlushQueue the test
 * runs by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlushQueue, Outbox, type DirectWrites, type MessageSink } from '../../../src/session/outbox.js';
import { SharedMessage } from '../../../src/hub/shared-message.js';

type Write = { readonly text: string } | { readonly bytes: string } | { readonly shared: SharedMessage } | { readonly cork: boolean };

/** A connection that records what was written, with a settable backlog in its socket. */
class FakeSink implements MessageSink {
  readonly writes: Write[] = [];
  unsent = 0;

  writeText(text: string): void {
    this.writes.push({ text });
  }

  writeShared(frame: SharedMessage): void {
    this.writes.push({ shared: frame });
  }

  writeBinary(bytes: Uint8Array): void {
    this.writes.push({ bytes: Buffer.from(bytes).toString('hex') });
  }

  unsentBytes(): number {
    return this.unsent;
  }

  cork(): void {
    this.writes.push({ cork: true });
  }

  uncork(): void {
    this.writes.push({ cork: false });
  }
}

/** The end of the turn, run by hand: `flushes` calls what was deferred when `nextTurn()` is awaited. */
const deferred: Array<() => void> = [];
const flushes = new FlushQueue((fn) => deferred.push(fn));

async function nextTurn(): Promise<void> {
  for (const fn of deferred.splice(0)) fn();
}

const LIMIT = 1024 * 1024;

/** An outbox whose pushes call `onOverflow` when they report an overflow, as the session does. */
function writer(sink: MessageSink, maxBytes = LIMIT, onOverflow: () => void = () => assert.fail('unexpected overflow'), direct?: DirectWrites) {
  const outbox = new Outbox(sink, { maxBytes, flushes, direct });
  return {
    push(item: Parameters<Outbox['enqueue']>[0], channel?: string): void {
      if (outbox.enqueue(item, channel)) onOverflow();
    },
    flush: () => outbox.flush(),
    close: () => outbox.closeOutbox(),
    get closed() {
      return outbox.outboxClosed;
    },
  };
}

describe('Outbox batching', () => {
  it('writes the first message of a turn at once', () => {
    const sink = new FakeSink();
    writer(sink).push('{"id":1,"connect":{}}');
    assert.deepEqual(sink.writes, [{ text: '{"id":1,"connect":{}}' }]);
  });

  it('joins the turn\'s later replies and pushes with \n into one writeText at the end of the turn, in order, corked', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    w.push('{"id":1,"connect":{"client":"c","version":"v"}}');
    w.push('{"id":2,"subscribe":{}}');
    w.push('{"push":{"channel":"a","pub":{"data":1}}}');
    assert.deepEqual(sink.writes, [{ text: '{"id":1,"connect":{"client":"c","version":"v"}}' }]);
    await nextTurn();
    assert.deepEqual(sink.writes, [
      { text: '{"id":1,"connect":{"client":"c","version":"v"}}' },
      { cork: true },
      { text: '{"id":2,"subscribe":{}}\n{"push":{"channel":"a","pub":{"data":1}}}' },
      { cork: false },
    ]);
  });

  it('writes a lone shared message through writeShared, the same instance', () => {
    const sink = new FakeSink();
    const message = new SharedMessage('{"push":{"channel":"a","pub":{"data":1}}}');
    writer(sink).push(message);
    assert.equal(sink.writes.length, 1);
    const only = sink.writes[0]!;
    assert.ok('shared' in only && only.shared === message);
  });

  it('keeps shared messages as their shared bytes among other items, in order, all in one corked write', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    const a = new SharedMessage('{"push":{"channel":"a","pub":{"data":2}}}');
    const b = new SharedMessage('{"push":{"channel":"a","pub":{"data":3}}}');
    w.push('{"id":3,"publish":{}}');
    w.push('{"id":4,"ping":{}}');
    w.push('{"id":5,"ping":{}}');
    w.push(a);
    w.push(b);
    w.push('{}');
    await nextTurn();
    assert.deepEqual(sink.writes, [
      { text: '{"id":3,"publish":{}}' },
      { cork: true },
      { text: '{"id":4,"ping":{}}\n{"id":5,"ping":{}}' },
      { shared: a },
      { shared: b },
      { text: '{}' },
      { cork: false },
    ]);
    const shared = sink.writes.filter((x): x is { shared: SharedMessage } => 'shared' in x);
    assert.ok(shared[0]!.shared === a && shared[1]!.shared === b, 'the same instances: encoded once for every subscriber');
  });

  it('joins a run of Protobuf replies into one binary frame (each keeps its length prefix), shared ones apart', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    const shared = SharedMessage.binary(Uint8Array.of(2, 0x22, 0x00));
    w.push(Uint8Array.of(9)); // the turn's first: written at once
    w.push(Uint8Array.of(2, 0x08, 0x01));
    w.push(Uint8Array.of(0));
    w.push(shared);
    w.push(Uint8Array.of(0));
    await nextTurn();
    assert.deepEqual(sink.writes, [
      { bytes: '09' },
      { cork: true },
      { bytes: '02080100' },
      { shared },
      { bytes: '00' },
      { cork: false },
    ]);
  });

  it('counts a binary reply by its length', () => {
    let overflowed = 0;
    const w = writer(new FakeSink(), 4, () => overflowed++);
    w.push(Uint8Array.of(9));
    w.push(Uint8Array.of(1, 2, 3));
    w.push(Uint8Array.of(1, 2));
    assert.equal(overflowed, 1);
  });

  it('writes at once again in a later turn', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    w.push('{"id":1,"ping":{}}');
    await nextTurn();
    w.push('{"id":2,"ping":{}}');
    w.push('{"id":3,"ping":{}}');
    await nextTurn();
    assert.deepEqual(sink.writes, [{ text: '{"id":1,"ping":{}}' }, { text: '{"id":2,"ping":{}}' }, { text: '{"id":3,"ping":{}}' }]);
  });

  it('defers one flush per turn for many outboxes, whatever each one queued', async () => {
    await nextTurn(); // no flush of an earlier test may be pending
    const sinks = [new FakeSink(), new FakeSink(), new FakeSink()];
    const outboxes = sinks.map((s) => writer(s));
    for (const [i, o] of outboxes.entries()) {
      o.push(`{"id":${i + 1},"ping":{}}`);
      o.push('{}');
      o.push('{}');
    }
    assert.equal(deferred.length, 1, 'one deferred flush for three outboxes');
    await nextTurn();
    const expected = (id: number): Write[] => [{ text: `{"id":${id},"ping":{}}` }, { cork: true }, { text: '{}\n{}' }, { cork: false }];
    assert.deepEqual(sinks.map((s) => s.writes), [expected(1), expected(2), expected(3)]);
  });

  it('uses setImmediate for the end of the turn by default', async (t) => {
    const immediate = t.mock.method(globalThis, 'setImmediate');
    const queue = new FlushQueue();
    const sink = new FakeSink();
    const o = new Outbox(sink, { maxBytes: LIMIT, flushes: queue });
    o.enqueue('a');
    o.enqueue('b');
    assert.equal(immediate.mock.callCount(), 1);
    immediate.mock.restore();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sink.writes, [{ text: 'a' }, { text: 'b' }]);
  });

  it('writes what is queued at once when flush() is called, and nothing more at the end of the turn', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    w.push('a');
    w.push('b');
    w.push('c');
    w.flush();
    assert.deepEqual(sink.writes, [{ text: 'a' }, { cork: true }, { text: 'b\nc' }, { cork: false }]);
    await nextTurn();
    assert.equal(sink.writes.length, 4);
  });
});

describe('Outbox overflow (slow consumer)', () => {
  it('calls onOverflow once, drops the queue and ignores later pushes when the queue passes maxBytes', async () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 10, () => overflows++);
    w.push('first'); // written at once
    w.push('12345');
    w.push('67890'); // 10 bytes queued: at the limit, not past it
    assert.equal(overflows, 0);
    w.push('x'); // 11 bytes
    assert.equal(overflows, 1);
    assert.equal(w.closed, true);
    w.push('more');
    w.push(new SharedMessage('even more'));
    await nextTurn();
    assert.equal(overflows, 1);
    assert.deepEqual(sink.writes, [{ text: 'first' }]);
  });

  it('counts the bytes still unsent in the socket', async () => {
    const sink = new FakeSink();
    const w = writer(sink, 10, () => overflows++);
    let overflows = 0;
    w.push('first');
    sink.unsent = 8;
    w.push('ab'); // 2 + 8 = 10
    assert.equal(overflows, 0);
    w.push('c'); // 3 + 8 = 11
    assert.equal(overflows, 1);
    await nextTurn();
    assert.deepEqual(sink.writes, [{ text: 'first' }]);
  });

  it('overflows on a first message when the socket backlog is already at the limit', () => {
    const sink = new FakeSink();
    sink.unsent = 100;
    let overflows = 0;
    writer(sink, 100, () => overflows++).push('{}');
    assert.equal(overflows, 1);
    assert.deepEqual(sink.writes, []);
  });

  it('counts a shared message by its text', () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 10, () => overflows++);
    w.push('first');
    w.push(new SharedMessage('0123456789'));
    assert.equal(overflows, 0);
    w.push(new SharedMessage('x'));
    assert.equal(overflows, 1);
  });

  it('counts a message of several frames by all their text', () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 10, () => overflows++);
    w.push('first');
    w.push(SharedMessage.frames([new SharedMessage('01234'), new SharedMessage('5678')]));
    assert.equal(overflows, 0);
    w.push(SharedMessage.frames([new SharedMessage('9'), new SharedMessage('x')]));
    assert.equal(overflows, 1);
  });

  it('starts counting again from zero after each flush, leaving the backlog to unsentBytes', async () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 10, () => overflows++);
    w.push('first');
    w.push('0123456789');
    await nextTurn();
    w.push('first');
    w.push('0123456789');
    await nextTurn();
    assert.equal(overflows, 0);
    assert.equal(sink.writes.length, 4);
  });

  it('counts UTF-8 bytes, not UTF-16 code units, when the text is not ASCII', () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 14, () => overflows++);
    w.push('first');
    w.push('{}');
    w.push('"\u00e9\u00e9\u00e9\u00e9\u00e9"'); // 7 characters, 12 bytes of UTF-8: 14 in all, at the limit
    assert.equal(overflows, 0);
    w.push('"\u00e9"'); // 4 more bytes (3 characters)
    assert.equal(overflows, 1);
  });

  it('accepts one message larger than the limit into an empty pipeline (a big publication cuts nobody)', async () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 10, () => overflows++);
    w.push('"a big publication of 33 bytes"');
    assert.equal(overflows, 0);
    assert.deepEqual(sink.writes, [{ text: '"a big publication of 33 bytes"' }]);
    await nextTurn();
    w.push('"x"');
    w.push('"y"');
    assert.equal(overflows, 0, 'the pipeline is empty again once written');
  });

  it('closes on a turn\'s publications sent as one message when together they pass the limit, even into an empty pipeline', () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 10, () => overflows++);
    // Three pushes of one turn, joined for every subscriber (hub.ts): 3 x 8 = 24 bytes against a limit of 10.
    w.push(SharedMessage.joined('"pub 1"\n"pub 2"\n"pub 3"', 3));
    assert.equal(overflows, 1);
    assert.equal(w.closed, true);
    assert.deepEqual(sink.writes, []);
  });
});

describe('Outbox close', () => {
  it('flushes what is queued, then ignores later pushes', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    w.push('{"id":1,"publish":{}}');
    w.push('{"id":2,"publish":{}}');
    w.push('{"push":{"channel":"a","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}');
    w.close();
    assert.deepEqual(sink.writes, [
      { text: '{"id":1,"publish":{}}' },
      { cork: true },
      { text: '{"id":2,"publish":{}}\n{"push":{"channel":"a","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}' },
      { cork: false },
    ]);
    assert.equal(w.closed, true);
    w.push('{"id":3,"publish":{}}');
    await nextTurn();
    assert.equal(sink.writes.length, 4);
  });

  it('writes nothing when closed with an empty queue, and closing twice is harmless', async () => {
    const sink = new FakeSink();
    const w = writer(sink);
    w.close();
    w.close();
    await nextTurn();
    assert.deepEqual(sink.writes, []);
  });

  it('writes a lone queued shared message through writeShared when closing', () => {
    const sink = new FakeSink();
    const message = new SharedMessage('{"push":{"channel":"a","pub":{"data":1}}}');
    const w = writer(sink);
    w.push('first');
    w.push(message);
    w.close();
    assert.equal(sink.writes.length, 2);
    const last = sink.writes[1]!;
    assert.ok('shared' in last && last.shared === message);
  });

  it('does not call onOverflow when closed after an overflow', () => {
    const sink = new FakeSink();
    let overflows = 0;
    const w = writer(sink, 1, () => overflows++);
    w.push('first');
    w.push('xx');
    w.push('yy');
    w.close();
    assert.equal(overflows, 1);
    assert.deepEqual(sink.writes, [{ text: 'first' }]);
  });
});

describe('Outbox and native fan-out', () => {
  it('asks the sink to hold a channel when one of its pushes that is not fanned out is queued, and only then', async () => {
    const held: string[] = [];
    const sink = new FakeSink();
    const holding: MessageSink = Object.assign(sink, { holdChannel: (channel: string) => held.push(channel) });
    const w = writer(holding);
    const marked = new SharedMessage('{"push":{"channel":"x","pub":{"data":1}}}');
    marked.channel = 'x';
    w.push(new SharedMessage('{"push":{"channel":"x","join":{}}}'), 'x'); // written at once: nothing can overtake it
    assert.deepEqual(held, []);
    w.push(marked, 'x'); // queued, but fanned out itself
    w.push('{"id":1}'); // a reply of no channel
    assert.deepEqual(held, []);
    w.push(new SharedMessage('{"push":{"channel":"x","join":{}}}'), 'x');
    assert.deepEqual(held, ['x']);
    await nextTurn();
  });
});

describe('Outbox writing to the stream under the connection', () => {
  interface Stream {
    writable: boolean;
    writableLength: number;
    readonly written: string[];
  }

  /** The transport's direct writes, over the test's streams. */
  const direct: DirectWrites = {
    unsent: (stream) => (stream as Stream).writableLength,
    write(stream, bytes) {
      if ((stream as Stream).writable) (stream as Stream).written.push(Buffer.from(bytes).toString());
      return false;
    },
  };

  /** A sink with a byte stream the outbox may write shared messages' frames to itself. */
  class StreamSink extends FakeSink {
    readonly stream: Stream = { writable: true, writableLength: 0, written: [] };
    owner: Outbox | undefined;

    directWriter(owner: Outbox) {
      this.owner = owner;
      return this.stream;
    }

    frameOf(message: SharedMessage): Uint8Array {
      return (message.wire ??= Buffer.from(`frame(${message.text})`));
    }
  }

  const streamWriter = (sink: StreamSink, maxBytes = LIMIT, onOverflow?: () => void) => writer(sink, maxBytes, onOverflow, direct);

  it('writes a shared message at once to the stream, framed once, and its own messages through the sink', async () => {
    const sink = new StreamSink();
    const a = streamWriter(sink);
    const b = streamWriter(new StreamSink());
    const shared = new SharedMessage('pub');
    a.push(shared);
    b.push(shared);
    assert.deepEqual(sink.stream.written, ['frame(pub)']);
    assert.equal(String(shared.wire), 'frame(pub)', 'framed by the first connection, reused by the second');
    await nextTurn();
    a.push('{"id":1}');
    assert.deepEqual(sink.writes, [{ text: '{"id":1}' }]);
    // Queued in a turn that already wrote: flushed through the sink, in order.
    a.push(new SharedMessage('second'));
    await nextTurn();
    assert.deepEqual(sink.writes, [{ text: '{"id":1}' }, { shared: new SharedMessage('second') }]);
  });

  it('asks for no stream, and writes through the sink, when the settings have no direct writes', () => {
    const sink = new StreamSink();
    writer(sink).push(new SharedMessage('pub'));
    assert.equal(sink.owner, undefined);
    assert.deepEqual(sink.stream.written, []);
    assert.deepEqual(sink.writes, [{ shared: new SharedMessage('pub') }]);
  });

  it('reads the backlog from the stream for the slow-consumer limit', () => {
    const sink = new StreamSink();
    sink.stream.writableLength = 100;
    let overflows = 0;
    streamWriter(sink, 100, () => overflows++).push(new SharedMessage('pub'));
    assert.equal(overflows, 1);
    assert.deepEqual(sink.stream.written, []);
  });

  it('writes nothing more to the stream once the connection is closing, or the stream is not writable', async () => {
    const sink = new StreamSink();
    const w = streamWriter(sink);
    sink.stream.writable = false;
    w.push(new SharedMessage('ended'));
    assert.deepEqual(sink.stream.written, [], 'a stream that is not writable is not written to');
    await nextTurn();
    sink.stream.writable = true;
    sink.owner!.connectionClosing();
    w.push(new SharedMessage('after close'));
    assert.deepEqual(sink.stream.written, [], 'after connectionClosing, only the sink');
    assert.deepEqual(sink.writes, [{ shared: new SharedMessage('after close') }]);
  });
});
