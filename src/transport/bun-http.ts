/**
 * node:http's request and response, as far as canal's HTTP handlers use them, over a fetch
 * Request and a Response: Bun.serve hands the transport a Request, the dispatcher (server API,
 * pages, /metrics, HTTP streaming and SSE) was written for node:http, and one adapter keeps
 * those handlers the same on both runtimes. The request is a Readable of the body; the response
 * a Writable whose first write (or flushHeaders) sends the status and headers with a streamed
 * body, and whose end without a write sends the whole body at once.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';

/** The request side: method, url (path and query), lower-case headers, the peer's address, the body as a stream. */
class AdaptedRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion = '1.1';
  readonly socket: { readonly remoteAddress: string | undefined; readonly encrypted: boolean; destroy(): void };
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #body: ReadableStream<Uint8Array> | null;

  constructor(request: Request, remoteAddress: string | undefined) {
    super();
    this.method = request.method;
    this.url = requestTarget(request.url);
    this.headers = headersOf(request.headers);
    this.socket = { remoteAddress, encrypted: request.url.startsWith('https:'), destroy() {} };
    this.#body = request.body;
  }

  /**
   * As node:http's IncomingMessage: a body that fails (the client went away, or Bun closed the
   * request once the response was sent while a handler drained the body with resume()) is an
   * 'error' only for a listener that reads it; with none, the request just ends. An 'error'
   * nobody listens to would end the process.
   */
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    callback(this.listenerCount('error') === 0 ? null : err);
  }

  override _read(): void {
    if (!this.#body) {
      this.push(null);
      return;
    }
    this.#reader ??= this.#body.getReader();
    this.#reader.read().then(({ done, value }) => {
      if (done) this.push(null);
      else this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }, (err: unknown) => this.destroy(err as Error));
  }
}

/**
 * The path and query, as node:http's `req.url` has them: cut from the absolute URL Bun gives,
 * not parsed again by `new URL` (which re-encodes). Bun itself has already resolved dot
 * segments, also percent-encoded ones (`/admin/%2e%2e/x` arrives as `/x`), as a browser does;
 * node:http passes them on, and canal's static files refuse them.
 */
export function requestTarget(absolute: string): string {
  const scheme = absolute.indexOf('://');
  const slash = scheme < 0 ? -1 : absolute.indexOf('/', scheme + 3);
  if (slash < 0) return '/';
  const hash = absolute.indexOf('#', slash);
  return hash < 0 ? absolute.slice(slash) : absolute.slice(slash, hash);
}

/** Headers as Bun has them: toJSON makes Node's object in native code (one object, no callback per header). */
type WithToJson = Headers & { toJSON?(): Record<string, string | string[]> };

/** Node's header object from fetch Headers: lower-case names, set-cookie as an array, others joined. */
export function headersOf(headers: Headers): IncomingHttpHeaders {
  const toJson = (headers as WithToJson).toJSON;
  if (toJson !== undefined) return toJson.call(headers) as IncomingHttpHeaders;
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out as IncomingHttpHeaders;
}

type HeaderValue = number | string | readonly string[];

/** The response side: collects status and headers, then streams or sends the body. */
class AdaptedResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  readonly socket = null;
  readonly #headers = new Map<string, HeaderValue>();
  readonly #respond: (response: Response) => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The write waiting for the reader to take more (the stream's queue is full): backpressure. */
  #waiting: (() => void) | undefined;
  #sent = false;

  constructor(respond: (response: Response) => void) {
    super({ decodeStrings: true });
    this.#respond = respond;
  }

  get headersSent(): boolean {
    return this.#sent;
  }

  setHeader(name: string, value: HeaderValue): this {
    this.#headers.set(name.toLowerCase(), value);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.#headers.get(name.toLowerCase());
  }

  getHeaders(): Record<string, HeaderValue> {
    return Object.fromEntries(this.#headers);
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(status: number, reason?: string | Record<string, HeaderValue>, headers?: Record<string, HeaderValue>): this {
    this.statusCode = status;
    if (typeof reason === 'string') this.statusMessage = reason;
    else headers = reason;
    if (headers) for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value);
    return this;
  }

  /** Sends the status and headers now; the body follows as it is written. */
  flushHeaders(): void {
    this.#start();
  }

  #start(): void {
    if (this.#sent) return;
    this.#sent = true;
    // A byte-counting queue of 64 KiB: past it a write waits until the client reads (the
    // response's writableLength then counts what waits, which is what slow-consumer checks read).
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting?.();
      },
      cancel: () => {
        this.#controller = undefined;
        this.destroy();
      },
    }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
    this.#respond(new Response(body, this.#init()));
  }

  #init(): ResponseInit {
    const headers = new Headers();
    for (const [name, value] of this.#headers) {
      if (Array.isArray(value)) for (const v of value as readonly string[]) headers.append(name, v);
      else headers.set(name, String(value));
    }
    return { status: this.statusCode, ...(this.statusMessage ? { statusText: this.statusMessage } : {}), headers };
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#start();
    const controller = this.#controller;
    if (!controller) {
      callback();
      return;
    }
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 1) > 0) callback();
    else this.#waiting = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#sent) {
      // Nothing was written: an empty body, sent with the headers.
      this.#sent = true;
      this.#respond(new Response(null, this.#init()));
    } else {
      try {
        this.#controller?.close();
      } catch {
        // The client went away: the stream is already cancelled.
      }
      // Closed: a destroy() that follows (a session ended by the server) must not error the
      // stream, which would discard what is queued but unread, such as the last disconnect event.
      this.#controller = undefined;
    }
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
    if (!this.#sent) {
      this.#sent = true;
      this.#respond(new Response(null, { status: 500 }));
    } else if (this.#controller) {
      try {
        this.#controller.error(err ?? new Error('response destroyed'));
      } catch {
        // Already closed.
      }
      this.#controller = undefined;
    }
    callback(err);
  }

  /** end(body) without a write before: the whole body goes out with the headers, no stream. */
  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    if (!this.#sent && (typeof chunk === 'string' || chunk instanceof Uint8Array) && this.writableLength === 0) {
      this.#sent = true;
      this.#respond(new Response(chunk.length === 0 ? null : chunk as string | Uint8Array<ArrayBuffer>, this.#init()));
      return super.end(typeof encoding === 'function' ? encoding : callback as (() => void) | undefined);
    }
    return super.end(chunk as string, encoding as BufferEncoding, callback as () => void);
  }
}

/**
 * Runs `listener` (a node:http request listener) on `request` and resolves with its response.
 * `remoteAddress` is the peer's address, as `req.socket.remoteAddress` reads it.
 */
export function serveAdapted(request: Request, remoteAddress: string | undefined,
  listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<Response> {
  return new Promise<Response>((resolve) => {
    const req = new AdaptedRequest(request, remoteAddress);
    const res = new AdaptedResponse(resolve);
    // The client's disconnect ends a long response (HTTP streaming, SSE) as node:http's 'close' would.
    request.signal.addEventListener('abort', () => res.destroy(), { once: true });
    listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
}
