/**
 * The bench's WebSocket frame parser and writer (bench/lib/ws-frames.ts): every reply and
 * delivery a load process counts goes through parseFrameHeader, so a frame it misreads would be
 * a figure it misreports. Fixture bytes are RFC 6455's own examples where it has them (§5.7).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  acceptKey, checkHandshakeResponse, clientFrame, emptyFrameHeader, headerLength, MAX_PAYLOAD, Opcode, parseFrameHeader, writeHeader,
} from '../../../bench/lib/ws-frames.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);

/** The payload of the frame parsed into `h` from `buf`, unmasked when it is masked. */
function payloadOf(buf: Buffer, h: ReturnType<typeof emptyFrameHeader>): Buffer {
  const out = Buffer.from(buf.subarray(h.payloadAt, h.end));
  if (h.maskAt !== -1) for (let i = 0; i < out.length; i++) out[i]! ^= buf[h.maskAt + (i & 3)]!;
  return out;
}

describe('parseFrameHeader', () => {
  it('reads an unmasked text frame "Hello" (RFC 6455 §5.7)', () => {
    const frame = bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
    const h = emptyFrameHeader();
    assert.equal(parseFrameHeader(frame, 0, h), true);
    assert.deepEqual(h, { fin: true, opcode: Opcode.Text, maskAt: -1, payloadAt: 2, payloadLength: 5, end: 7 });
    assert.equal(payloadOf(frame, h).toString(), 'Hello');
  });

  it('reads a masked text frame "Hello" and where its key is (RFC 6455 §5.7)', () => {
    const frame = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
    const h = emptyFrameHeader();
    assert.equal(parseFrameHeader(frame, 0, h), true);
    assert.deepEqual(h, { fin: true, opcode: Opcode.Text, maskAt: 2, payloadAt: 6, payloadLength: 5, end: 11 });
    assert.equal(payloadOf(frame, h).toString(), 'Hello');
  });

  it('reads a 16-bit length: a 256-byte unmasked binary frame (RFC 6455 §5.7)', () => {
    const frame = Buffer.concat([bytes(0x82, 0x7e, 0x01, 0x00), Buffer.alloc(256, 7)]);
    const h = emptyFrameHeader();
    assert.equal(parseFrameHeader(frame, 0, h), true);
    assert.deepEqual(h, { fin: true, opcode: Opcode.Binary, maskAt: -1, payloadAt: 4, payloadLength: 256, end: 260 });
  });

  it('reads the first fragment of a message as not final (RFC 6455 §5.7 "Hel")', () => {
    const h = emptyFrameHeader();
    assert.equal(parseFrameHeader(bytes(0x01, 0x03, 0x48, 0x65, 0x6c), 0, h), true);
    assert.equal(h.fin, false);
    assert.equal(h.opcode, Opcode.Text);
  });

  it('reads control frames: a ping with "Hello" and an empty close', () => {
    const h = emptyFrameHeader();
    assert.equal(parseFrameHeader(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f), 0, h), true);
    assert.equal(h.opcode, Opcode.Ping);
    assert.equal(parseFrameHeader(bytes(0x88, 0x00), 0, h), true);
    assert.deepEqual([h.opcode, h.payloadLength, h.end], [Opcode.Close, 0, 2]);
  });

  it('returns false for every cut of a frame short of its last byte, and leaves the record alone', () => {
    const frames = [
      bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
      Buffer.concat([bytes(0x82, 0x7e, 0x01, 0x00), Buffer.alloc(256)]),
      bytes(0x88, 0x00),
    ];
    for (const frame of frames) {
      for (let cut = 0; cut < frame.length; cut++) {
        const h = emptyFrameHeader();
        assert.equal(parseFrameHeader(frame.subarray(0, cut), 0, h), false, `cut at ${cut} of ${frame.length}`);
        assert.deepEqual(h, emptyFrameHeader());
      }
    }
  });

  it('reads frames back to back from an offset, each ending where the next starts', () => {
    const first = bytes(0x81, 0x02, 0x68, 0x69);
    const second = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
    const buf = Buffer.concat([bytes(0xff, 0xff), first, second]);
    const h = emptyFrameHeader();
    assert.equal(parseFrameHeader(buf, 2, h), true);
    assert.equal(payloadOf(buf, h).toString(), 'hi');
    assert.equal(h.end, 6);
    assert.equal(parseFrameHeader(buf, h.end, h), true);
    assert.equal(payloadOf(buf, h).toString(), 'Hello');
    assert.equal(h.end, buf.length);
    assert.equal(parseFrameHeader(buf, h.end, h), false);
  });

  it('throws on a 64-bit length, which nothing in the bench sends', () => {
    const frame = Buffer.concat([bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0), Buffer.alloc(65_536)]);
    assert.throws(() => parseFrameHeader(frame, 0, emptyFrameHeader()), RangeError);
  });
});

describe('writeHeader and clientFrame', () => {
  it('writes the header RFC 6455 §5.7 gives for "Hello", unmasked', () => {
    const out = Buffer.alloc(7);
    const at = writeHeader(out, 0, Opcode.Text, 5);
    Buffer.from('Hello').copy(out, at);
    assert.deepEqual(out, bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
  });

  it('writes the masked header with its key, as the §5.7 example', () => {
    const out = Buffer.alloc(6);
    assert.equal(writeHeader(out, 0, Opcode.Text, 5, bytes(0x37, 0xfa, 0x21, 0x3d)), 6);
    assert.deepEqual(out, bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d));
  });

  it('switches to the 16-bit length at 126 bytes, and says how long each header is', () => {
    assert.deepEqual([headerLength(125, false), headerLength(126, false), headerLength(MAX_PAYLOAD, true)], [2, 4, 8]);
    const out = Buffer.alloc(4);
    assert.equal(writeHeader(out, 0, Opcode.Binary, 126), 4);
    assert.deepEqual(out, bytes(0x82, 0x7e, 0x00, 0x7e));
  });

  it('refuses a payload past 65,535 bytes', () => {
    assert.throws(() => writeHeader(Buffer.alloc(16), 0, Opcode.Binary, MAX_PAYLOAD + 1), RangeError);
  });

  it('makes client frames that parse back, masked, to the same payload, at every length form', () => {
    for (const length of [0, 1, 125, 126, 1000, MAX_PAYLOAD]) {
      const payload = Buffer.alloc(length, 'a');
      const frame = clientFrame(Opcode.Text, payload);
      const h = emptyFrameHeader();
      assert.equal(parseFrameHeader(frame, 0, h), true);
      assert.equal(h.maskAt, headerLength(length, false));
      assert.equal(h.end, frame.length);
      assert.deepEqual(payloadOf(frame, h), payload);
    }
  });
});

describe('the opening handshake', () => {
  it('answers the key of RFC 6455 §1.3 with its accept value', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('accepts a 101 with the right accept value, and says why for a refusal or a wrong value', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const ok = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
    assert.equal(checkHandshakeResponse(ok, key), undefined);
    assert.equal(checkHandshakeResponse('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0', key), 'handshake refused: HTTP/1.1 503 Service Unavailable');
    assert.match(checkHandshakeResponse(ok.replace('s3pP', 'xxxx'), key) ?? '', /wrong Sec-WebSocket-Accept/);
  });
});
