/**
 * A raw Centrifugo-protocol (JSON) test client over `ws`: tests send exact frames and read the
 * server's lines one by one. Every text frame received is split on '\n' into lines, each parsed
 * as JSON; binary frames and lines that are not JSON are recorded (the server must send
 * neither) so `assertWellFormed` can fail on them. The server's ping `{}` is answered with `{}`
 * unless `autoPong` is false.
 */
import assert from 'node:assert/strict';
import { WebSocket, type ClientOptions } from 'ws';
import { sleep } from './wait.js';
import { closedWithin, SocketClient, type Closed } from './ws-client.js';

export { closedWithin, type Closed };

/** One decoded line (a reply, a push or a ping), read by tests with property paths. */
export type Wire = { readonly [key: string]: any };

export interface Frame {
  readonly text: string;
  readonly isBinary: boolean;
}

export interface ProtocolClientOptions extends ClientOptions {
  /** Answer every server ping `{}` with `{}` (default true). */
  readonly autoPong?: boolean;
}

interface Waiter {
  readonly match: (m: Wire) => boolean;
  readonly resolve: (m: Wire) => void;
  readonly reject: (err: Error) => void;
}

export const PROTOCOL_PATH = '/connection/websocket';

export class ProtocolClient extends SocketClient {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Every non-blank line of every text frame, as received. */
  readonly lines: string[] = [];
  /** Lines that were not valid JSON objects (should stay empty). */
  readonly invalidLines: string[] = [];
  /** Server pings (`{}`) received. */
  pings = 0;
  autoPong: boolean;
  /** The client id from the connect result, once `connect()` succeeded. */
  clientId = '';
  readonly #inbox: Wire[] = [];
  readonly #waiters: Waiter[] = [];
  #nextId = 1;

  constructor(url: string, options: ProtocolClientOptions = {}) {
    const { autoPong = true, ...wsOptions } = options;
    super(url, wsOptions);
    this.autoPong = autoPong;
  }

  protected override onClose({ code, reason }: Closed): void {
    // Nothing more will arrive: whoever still waits fails now, not at its timeout.
    for (const w of this.#waiters.splice(0)) w.reject(new Error(`connection closed (${code} ${reason}) while waiting`));
  }

  protected override receive(data: Buffer, isBinary: boolean): void {
    const text = data.toString();
    this.frames.push({ text, isBinary });
    if (isBinary) return;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.invalidLines.push(line);
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        this.invalidLines.push(line);
        continue;
      }
      const m = value as Wire;
      if (Object.keys(m).length === 0) {
        this.pings++;
        if (this.autoPong) this.send('{}');
      }
      this.#deliver(m);
    }
  }

  #deliver(m: Wire): void {
    const i = this.#waiters.findIndex((w) => w.match(m));
    if (i === -1) {
      this.#inbox.push(m);
      return;
    }
    const [w] = this.#waiters.splice(i, 1);
    w!.resolve(m);
  }

  /** Sends `text` as one text frame, exactly. */
  send(text: string): void {
    this.ws.send(text);
  }

  /** Sends `data` as one binary frame. */
  sendBinary(data: Buffer): void {
    this.ws.send(data, { binary: true });
  }

  /** The next id `command()` and `call()` will use. */
  get nextId(): number {
    return this.#nextId;
  }

  /** Sends `{"id":N,"<method>":body}` with the next id (or no id for `send`); returns the id. */
  command(method: string, body: unknown = {}): number {
    if (method === 'send') {
      this.send(JSON.stringify({ send: body }));
      return 0;
    }
    const id = this.#nextId++;
    this.send(JSON.stringify({ id, [method]: body }));
    return id;
  }

  /** Sends a command and resolves with its reply (pushes and other replies stay queued). */
  call(method: string, body: unknown = {}, timeoutMs = 5000): Promise<Wire> {
    const id = this.command(method, body);
    return this.reply(id, timeoutMs);
  }

  /** The reply with `id`. */
  reply(id: number, timeoutMs = 5000): Promise<Wire> {
    return this.take((m) => m.id === id, `the reply with id ${id}`, timeoutMs);
  }

  /** Connects and asserts success; resolves with the connect result. */
  async connect(body: unknown = {}): Promise<Wire> {
    const reply = await this.call('connect', body);
    assert.ok(reply.connect, `connect failed: ${JSON.stringify(reply)}`);
    this.clientId = reply.connect.client;
    return reply.connect;
  }

  /** Subscribes and asserts success; resolves with the subscribe result. */
  async subscribe(channel: string, extra: Record<string, unknown> = {}): Promise<Wire> {
    const reply = await this.call('subscribe', { channel, ...extra });
    assert.ok(reply.subscribe, `subscribe to ${channel} failed: ${JSON.stringify(reply)}`);
    return reply.subscribe;
  }

  /** The next push (optionally of `kind`, e.g. 'pub', and for `channel`). */
  nextPush(filter: { kind?: string; channel?: string } = {}, timeoutMs = 5000): Promise<Wire> {
    const what = `a push${filter.kind ? ` ${filter.kind}` : ''}${filter.channel ? ` in ${filter.channel}` : ''}`;
    return this.take((m) => isPush(m, filter), what, timeoutMs);
  }

  /** The next line of any kind (reply, push or ping). */
  next(timeoutMs = 5000): Promise<Wire> {
    return this.take(() => true, 'a message', timeoutMs);
  }

  /** Removes and resolves with the first received line matching `match`, waiting up to `timeoutMs`. */
  take(match: (m: Wire) => boolean, what: string, timeoutMs = 5000): Promise<Wire> {
    const i = this.#inbox.findIndex(match);
    if (i !== -1) return Promise.resolve(this.#inbox.splice(i, 1)[0]!);
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error(`connection closed while waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at !== -1) this.#waiters.splice(at, 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; received: ${this.lines.slice(-5).join(' | ') || 'nothing'}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(new Error(`${err.message} for ${what}`));
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /**
   * Asserts that no line matching `match` (default: any push) arrives within `ms`. Absence has no
   * event to wait for, so this is a bounded wait by nature; it fails as soon as such a line comes.
   */
  async expectNone(ms: number, match: (m: Wire) => boolean = (m) => isPush(m, {}), what = 'push'): Promise<void> {
    const deadline = Date.now() + ms;
    let found = this.#inbox.find(match);
    while (found === undefined && Date.now() < deadline) {
      await sleep(Math.min(20, deadline - Date.now()));
      found = this.#inbox.find(match);
    }
    assert.equal(found, undefined, `unexpected ${what}: ${JSON.stringify(found)}`);
  }

  /** Lines received and not yet taken. */
  get queued(): readonly Wire[] {
    return this.#inbox;
  }

}

function isPush(m: Wire, filter: { kind?: string; channel?: string }): boolean {
  if (typeof m.push !== 'object' || m.push === null) return false;
  if (filter.kind !== undefined && m.push[filter.kind] === undefined) return false;
  return filter.channel === undefined || m.push.channel === filter.channel;
}

/** Opens a protocol client on `${baseUrl}/connection/websocket` and waits for the handshake. */
export async function openProtocolClient(baseUrl: string, options: ProtocolClientOptions = {}): Promise<ProtocolClient> {
  const c = new ProtocolClient(`${baseUrl}${PROTOCOL_PATH}`, options);
  await c.opened;
  return c;
}

/** Opens a client and connects it (anonymous unless `body` has a token); resolves once connected. */
export async function connectedClient(baseUrl: string, body: unknown = {}, options: ProtocolClientOptions = {}): Promise<ProtocolClient> {
  const c = await openProtocolClient(baseUrl, options);
  await c.connect(body);
  return c;
}


/**
 * Asserts that `actual` holds everything in `expected`: objects key by key (extra keys in
 * `actual` are fine; a key expected as `undefined` must be absent), arrays element by element
 * and of the same length, anything else equal.
 */
/**
 * The publications pushed to `client` on `channel`, in arrival order, each with its offset and
 * the `n` of its data (tests publish `{ n }` to check order and completeness).
 */
export function numberedPublications(client: ProtocolClient, channel: string): Array<{ offset: number; n: number }> {
  return client.lines.map((l) => JSON.parse(l) as Wire)
    .filter((m) => m.push?.channel === channel && m.push.pub)
    .map((m) => ({ offset: m.push.pub.offset as number, n: (m.push.pub.data as { n: number }).n }));
}

export function assertSubset(actual: unknown, expected: unknown, path = '$', whole: unknown = actual): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual),
      `${path}: expected an object, got ${JSON.stringify(actual)} in ${JSON.stringify(whole)}`);
    for (const [key, value] of Object.entries(expected)) {
      const a = (actual as Record<string, unknown>)[key];
      if (value === undefined) {
        assert.ok(!(key in (actual as object)), `${path}.${key}: expected absent, got ${JSON.stringify(a)} in ${JSON.stringify(whole)}`);
      } else {
        assertSubset(a, value, `${path}.${key}`, whole);
      }
    }
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)} in ${JSON.stringify(whole)}`);
    assert.equal(actual.length, expected.length, `${path}: expected ${expected.length} elements, got ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => assertSubset(actual[i], e, `${path}[${i}]`, whole));
    return;
  }
  assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)} in ${JSON.stringify(whole)}`);
}

/**
 * Asserts a reply: `expectReply(reply, { id: 1, error: { code: 103 } })`. Given several lines
 * (e.g. everything received), the one with the expected id is checked.
 */
export function expectReply(actual: Wire | readonly Wire[], expected: { readonly id: number } & Record<string, unknown>): void {
  const reply = Array.isArray(actual) ? (actual as readonly Wire[]).find((m) => m.id === expected.id) : (actual as Wire);
  assert.ok(reply, `no reply with id ${expected.id} among ${JSON.stringify(actual)}`);
  assertSubset(reply, expected);
}

/** Asserts the client received only text frames whose every line is a JSON object. */
export function assertWellFormed(client: ProtocolClient): void {
  assert.deepEqual(client.frames.filter((f) => f.isBinary).length, 0, 'the server sent a binary frame');
  assert.deepEqual(client.invalidLines, [], 'the server sent lines that are not JSON objects');
}
