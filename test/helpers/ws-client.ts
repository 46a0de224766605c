/**
 * A WebSocket test client over `ws` that queues what it receives, so tests read messages in
 * order with `next()` and assert on close codes with `closed`.
 */
import { WebSocket, type ClientOptions, type RawData } from 'ws';

export interface Received {
  readonly data: Buffer;
  readonly text: string;
  readonly isBinary: boolean;
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/**
 * What every WebSocket test client shares: the `ws` socket (errors absorbed: tests assert on
 * close codes), the handshake and the close. Subclasses decide what to keep of each message.
 */
export abstract class SocketClient {
  readonly ws: WebSocket;
  /** Resolves with the close code and reason once the connection is closed. */
  readonly closed: Promise<Closed>;
  /** Resolves once the connection is open; rejects on a failed handshake. */
  readonly opened: Promise<void>;

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, { maxPayload: 512 * 1024 * 1024, ...options });
    this.ws.on('message', (data: RawData, isBinary: boolean) => {
      this.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary);
    });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        const closed = { code, reason: reason.toString() };
        resolve(closed);
        this.onClose(closed);
      });
    });
  }

  /** One message from the server. */
  protected abstract receive(data: Buffer, isBinary: boolean): void;

  /** The connection closed; nothing more will arrive. */
  protected onClose(_closed: Closed): void {}

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.close();
  }
}

/** A plain client: every message is queued, and tests read them in order with `next()`. */
export class TestClient extends SocketClient {
  readonly #queue: Received[] = [];
  readonly #waiters: Array<(m: Received) => void> = [];

  protected override receive(data: Buffer, isBinary: boolean): void {
    const m = { data, text: data.toString(), isBinary };
    const w = this.#waiters.shift();
    if (w) w(m);
    else this.#queue.push(m);
  }

  /** The next message received, waiting up to `timeoutMs`. */
  next(timeoutMs = 5000): Promise<Received> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (m: Received): void => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next message's text. */
  async nextText(timeoutMs?: number): Promise<string> {
    return (await this.next(timeoutMs)).text;
  }

  /** How many received messages are waiting to be read. */
  get pending(): number {
    return this.#queue.length;
  }

  send(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.ws.send(data, options);
  }
}

/** Opens a client and waits for the handshake. */
export async function connectClient(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const c = new TestClient(url, options);
  await c.opened;
  return c;
}

/** Resolves with the close code/reason or rejects when the connection is still open after `ms`. */
export async function closedWithin(client: { readonly closed: Promise<Closed> }, ms = 5000): Promise<Closed> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([client.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
