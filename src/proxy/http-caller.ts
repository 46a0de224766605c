/**
 * POSTs JSON to one backend endpoint and returns the body of its 200 answer: a pool of
 * keep-alive connections (node:http's Agent, which Bun implements too), one deadline per call
 * that covers connecting, sending and reading the whole answer, and a cap on the answer's size.
 * A call that fails for any reason destroys its socket, so a slow or broken backend cannot keep
 * connections (or memory) of ours; the caller gets a {@link CallFailure} saying why.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ProxyFailureKind } from './errors.js';

/** Why a call did not return a body. */
export class CallFailure extends Error {
  constructor(readonly kind: Exclude<ProxyFailureKind, 'invalid'> | 'invalid', message: string) {
    super(message);
    this.name = 'CallFailure';
  }
}

/**
 * The largest answer read (16 MiB): an RPC result or a publication that large is already a
 * mistake, and a backend gone wrong must not make us buffer without end.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Idle connections kept per backend (Centrifugo keeps 255). */
const MAX_IDLE_SOCKETS = 255;

export interface CallerOptions {
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly keepAlive: boolean;
}

export class HttpCaller {
  readonly #url: URL;
  readonly #timeoutMs: number;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  constructor(options: CallerOptions) {
    this.#url = new URL(options.endpoint);
    this.#timeoutMs = options.timeoutMs;
    const https = this.#url.protocol === 'https:';
    const agentOptions = { keepAlive: options.keepAlive, maxFreeSockets: MAX_IDLE_SOCKETS, scheduling: 'lifo' as const };
    this.#agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.#request = https ? httpsRequest : httpRequest;
  }

  /** Sockets to the backend: in use by a call, and idle in the pool, for tests that prove none is left behind. */
  get sockets(): { busy: number; idle: number } {
    const count = (m: NodeJS.ReadOnlyDict<unknown[]>): number => Object.values(m).reduce((n, list) => n + (list?.length ?? 0), 0);
    return { busy: count(this.#agent.sockets), idle: count(this.#agent.freeSockets) };
  }

  /** POSTs `body` (JSON) with `headers`; resolves with the answer's body. Throws CallFailure. */
  post(body: string, headers: Readonly<Record<string, string | readonly string[]>>): Promise<string> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (kind: CallFailure['kind'], message: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Destroying the request destroys its socket: nothing of a failed call stays in the pool.
        req.destroy();
        reject(new CallFailure(kind, message));
      };
      const payload = Buffer.from(body);
      const req = this.#request(this.#url, {
        method: 'POST',
        agent: this.#agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': payload.length },
      });
      const timer = setTimeout(() => fail('timeout', `no answer within ${this.#timeoutMs} ms`), this.#timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => fail('unreachable', err.code ? `${err.code} (${err.message})` : err.message));
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          fail('status', `HTTP ${res.statusCode ?? '?'} (the answer must be 200 with a JSON body)`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) fail('invalid', `the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
          else chunks.push(chunk);
        });
        res.on('error', (err) => fail('unreachable', `the answer broke off (${err.message})`));
        res.on('close', () => {
          if (!res.complete) fail('unreachable', 'the answer broke off');
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
      });
      req.end(payload);
    });
  }

  /** Closes every connection to the backend (the server is shutting down). */
  close(): void {
    this.#agent.destroy();
  }
}
