/**
 * A subscriber of the bytes benchmark: one WebSocket to canal's protocol endpoint speaking JSON
 * or Protobuf (written by hand here, as a client would: connect and subscribe in one frame), with
 * or without fossil deltas and permessage-deflate. It counts the bytes the socket read (frames
 * and headers, as on the wire) and rebuilds every publication's data — applying each delta to
 * the previous data — checking it against what was published, so a saving never hides a wrong
 * byte.
 */
import { applyDelta } from 'fossil-delta';
import pb from 'protobufjs/minimal.js';
import WebSocket from 'ws';
import { BenchError } from '../lib/benchmark.js';

export interface Variant {
  readonly name: string;
  readonly protobuf: boolean;
  readonly delta: boolean;
  readonly deflate: boolean;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Connect (id 1) and subscribe (id 2) as one Protobuf frame: each Command preceded by its length. */
function protobufHello(channel: string, delta: boolean): Uint8Array {
  const w = pb.Writer.create();
  w.fork().uint32((1 << 3) | 0).uint32(1).uint32((4 << 3) | 2).fork().ldelim().ldelim();
  w.fork().uint32((1 << 3) | 0).uint32(2).uint32((5 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(channel);
  if (delta) w.uint32((12 << 3) | 2).string('fossil');
  w.ldelim().ldelim();
  return w.finish();
}

/** The publications (data bytes, delta flag) and whether a reply with `id` came, in one binary frame. */
function readProtobuf(frame: Uint8Array, onPub: (data: Uint8Array, delta: boolean) => void): number[] {
  const ids: number[] = [];
  const r = pb.Reader.create(frame);
  while (r.pos < r.len) {
    const end = r.uint32() + r.pos;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | 0)) ids.push(r.uint32());
      else if (tag === ((4 << 3) | 2)) {
        const pushEnd = r.uint32() + r.pos;
        while (r.pos < pushEnd) {
          const t = r.uint32();
          if (t !== ((4 << 3) | 2)) {
            r.skipType(t & 7);
            continue;
          }
          const pubEnd = r.uint32() + r.pos;
          let data: Uint8Array = new Uint8Array(0);
          let delta = false;
          while (r.pos < pubEnd) {
            const f = r.uint32();
            if (f === ((4 << 3) | 2)) data = r.bytes();
            else if (f === ((8 << 3) | 0)) delta = r.bool();
            else r.skipType(f & 7);
          }
          onPub(data, delta);
        }
      } else r.skipType(tag & 7);
    }
  }
  return ids;
}

export class Subscriber {
  readonly variant: Variant;
  readonly #ws: WebSocket;
  readonly #expected: readonly string[];
  #received = 0;
  #prev: Uint8Array | undefined;
  #startBytes = 0;
  #subscribed: () => void = () => {};
  #done: () => void = () => {};
  #failed: (err: Error) => void = () => {};
  /** Publications that came as deltas. */
  deltas = 0;

  private constructor(url: string, variant: Variant, expected: readonly string[]) {
    this.variant = variant;
    this.#expected = expected;
    this.#ws = new WebSocket(url, variant.protobuf ? 'centrifuge-protobuf' : 'centrifuge-json', { perMessageDeflate: variant.deflate });
  }

  /** Opens, connects and subscribes to `channel`; resolves once subscribed. */
  static async open(url: string, channel: string, variant: Variant, expected: readonly string[]): Promise<Subscriber> {
    const s = new Subscriber(url, variant, expected);
    const ws = s.#ws;
    await new Promise<void>((resolve, reject) => {
      s.#subscribed = resolve;
      s.#failed = reject;
      ws.once('error', reject);
      ws.once('close', (code, reason) => s.#failed(new BenchError(`${variant.name} subscriber closed ${code} ${reason.toString()}`)));
      ws.on('message', (data: Buffer, binary) => s.#onMessage(data, binary));
      ws.once('open', () => {
        if (variant.protobuf) ws.send(protobufHello(channel, variant.delta));
        else ws.send(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":${JSON.stringify(channel)}${variant.delta ? ',"delta":"fossil"' : ''}}}`);
      });
    });
    return s;
  }

  /** Bytes read from the socket since subscribing. */
  get bytes(): number {
    return this.#socketBytes() - this.#startBytes;
  }

  #socketBytes(): number {
    return (this.#ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
  }

  /** Resolves once every expected publication arrived and matched. */
  finished(timeoutMs: number): Promise<void> {
    if (this.#received === this.#expected.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchError(`${this.variant.name} subscriber got ${this.#received} of ${this.#expected.length} publications in ${timeoutMs} ms`)), timeoutMs);
      this.#done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#failed = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    });
  }

  close(): void {
    this.#ws.terminate();
  }

  #onMessage(data: Buffer, binary: boolean): void {
    try {
      if (binary) {
        const ids = readProtobuf(data, (bytes, delta) => this.#publication(bytes, delta));
        if (ids.includes(2)) this.#ready();
        return;
      }
      for (const line of data.toString('utf8').split('\n')) {
        if (line === '' || line === '{}') continue;
        const msg = JSON.parse(line) as { id?: number; error?: unknown; push?: { pub?: { data: unknown; delta?: boolean } } };
        if (msg.error) throw new BenchError(`${this.variant.name} subscriber: ${line}`);
        if (msg.id === 2) this.#ready();
        const pub = msg.push?.pub;
        if (!pub) continue;
        // With deltas on, data is a JSON string: the JSON text, or the delta's text.
        const bytes = this.variant.delta ? utf8.encode(pub.data as string) : utf8.encode(JSON.stringify(pub.data));
        this.#publication(bytes, pub.delta === true);
      }
    } catch (err) {
      this.#failed(err as Error);
    }
  }

  #ready(): void {
    this.#startBytes = this.#socketBytes();
    this.#subscribed();
  }

  #publication(bytes: Uint8Array, delta: boolean): void {
    const full = delta ? applyDelta(this.#prev!, bytes) : bytes;
    if (delta) this.deltas++;
    this.#prev = full;
    const text = fromUtf8.decode(full);
    const want = this.#expected[this.#received];
    if (text !== want) throw new BenchError(`${this.variant.name} subscriber: publication ${this.#received + 1} is ${text.slice(0, 80)}, published ${want?.slice(0, 80)}`);
    if (++this.#received === this.#expected.length) this.#done();
  }
}
