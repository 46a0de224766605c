/**
 * The official `centrifuge` client (5.x) against a canal under test: a client with fast
 * reconnects that is disconnected when its test ends, bounded waits for its events, event
 * collectors, a `ws` class that remembers the sockets it opened (to cut them), and HS256 tokens.
 */
import type { TestContext } from 'node:test';
import { Centrifuge, type ClientEvents, type Options, type Subscription, type SubscriptionEvents, type SubscriptionOptions, type TransportEndpoint } from 'centrifuge';
import type { JWTPayload } from 'jose';
import WebSocket from 'ws';
import type { TestServer } from './server.js';
import { HMAC_SECRET, hmacKey, mintToken } from './tokens.js';

/** Where the protocol endpoint of `server` is: `ws://127.0.0.1:PORT/connection/websocket`. */
export function protocolUrl(server: TestServer | { readonly wsUrl: string }): string {
  return `${server.wsUrl}/connection/websocket`;
}

/** Reconnect delays small enough for tests (the client's defaults are 500 ms / 20 s). */
export const FAST_RECONNECT = { minReconnectDelay: 50, maxReconnectDelay: 200 } as const;

/**
 * A new (not yet connected) client for `server`, with `ws` as its WebSocket (Node 20 has no
 * global one) and fast reconnects; `options` override. `server` may also be a URL, or a list of
 * transports (HTTP streaming, SSE). It is disconnected when `t` ends.
 */
export function newClient(t: TestContext, server: { readonly wsUrl: string } | string | TransportEndpoint[], options: Partial<Options> = {}): Centrifuge {
  const url = typeof server === 'string' || Array.isArray(server) ? server : protocolUrl(server);
  const client = new Centrifuge(url, { websocket: WebSocket, ...FAST_RECONNECT, ...options });
  // The client is an EventEmitter: an 'error' event with no listener would throw. Tests that
  // care about errors add their own listener (collect(client, 'error')).
  client.on('error', () => {});
  t.after(() => client.disconnect());
  return client;
}

/** A new client, connected: resolves once 'connected' was emitted (at most `timeoutMs`). */
export async function connectedCentrifuge(t: TestContext, server: { readonly wsUrl: string } | string, options: Partial<Options> = {}, timeoutMs = 5000): Promise<Centrifuge> {
  const client = newClient(t, server, options);
  const connected = once(client, 'connected', timeoutMs);
  client.connect();
  await connected;
  return client;
}

/** The client id of a connected client (what its last 'connected' event carried). Throws when it is not connected. */
export function clientId(client: Centrifuge): string {
  const id = (client as unknown as { _client: string | null })._client;
  if (client.state !== 'connected' || !id) throw new Error(`the client is ${client.state}, so it has no client id`);
  return id;
}

/** A new subscription to `channel` on `client`, resolved once 'subscribed' was emitted (at most `timeoutMs`). */
export async function subscribe(client: Centrifuge, channel: string, options: Partial<SubscriptionOptions> = {}, timeoutMs = 5000): Promise<Subscription> {
  const sub = client.newSubscription(channel, options);
  const done = once(sub, 'subscribed', timeoutMs);
  sub.subscribe();
  await done;
  return sub;
}

type Listener = (...args: any[]) => void;
/** The events of a client or of a subscription (inference through the SDK's generic emitter type does not work). */
type EventsOf<T> = T extends Centrifuge ? ClientEvents : T extends Subscription ? SubscriptionEvents : never;
/** What the helpers listen to: a client or a subscription. */
export type Emitter = Centrifuge | Subscription;
/** The (first) argument an event handler of `T` receives for `E`. */
export type EventCtx<T, E extends keyof EventsOf<T>> = EventsOf<T>[E] extends (ctx: infer C, ...rest: any[]) => void ? C : never;

/** The subset of the client's typed emitter these helpers use, without its generics. */
interface LooseEmitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

function loose(emitter: unknown): LooseEmitter {
  return emitter as LooseEmitter;
}

/**
 * Resolves with the ctx of the next `event` of `emitter` (a Centrifuge client or a Subscription)
 * that satisfies `match` (any, by default); rejects after `timeoutMs` naming the event.
 */
export function once<T extends Emitter, E extends keyof EventsOf<T> & string>(
  emitter: T,
  event: E,
  timeoutMs = 5000,
  match: (ctx: EventCtx<T, E>) => boolean = () => true,
): Promise<EventCtx<T, E>> {
  const e = loose(emitter);
  return new Promise((resolve, reject) => {
    const seen: unknown[] = [];
    const listener = (ctx: EventCtx<T, E>): void => {
      if (!match(ctx)) {
        seen.push(ctx);
        return;
      }
      clearTimeout(timer);
      e.off(event, listener);
      resolve(ctx);
    };
    const timer = setTimeout(() => {
      e.off(event, listener);
      const also = seen.length > 0 ? `; non-matching ones seen: ${JSON.stringify(seen)}` : '';
      reject(new Error(`no matching '${event}' event within ${timeoutMs} ms${also}`));
    }, timeoutMs);
    e.on(event, listener);
  });
}

/** Rejects if `event` is emitted within `ms`; resolves after `ms` otherwise. */
export function never<T extends Emitter, E extends keyof EventsOf<T> & string>(emitter: T, event: E, ms: number): Promise<void> {
  const e = loose(emitter);
  return new Promise((resolve, reject) => {
    const listener = (ctx: unknown): void => {
      clearTimeout(timer);
      e.off(event, listener);
      reject(new Error(`unexpected '${event}' event: ${JSON.stringify(ctx)}`));
    };
    const timer = setTimeout(() => {
      e.off(event, listener);
      resolve();
    }, ms);
    e.on(event, listener);
  });
}

/** Every ctx of one event, in order, from the moment {@link collect} was called. */
export interface Collected<C> {
  readonly items: C[];
  /** Resolves once at least `n` were collected; rejects after `timeoutMs` with what was. */
  waitFor(n: number, timeoutMs?: number): Promise<C[]>;
  /** Stops collecting. */
  stop(): void;
}

/** Starts collecting every `event` of `emitter` (e.g. every 'publication' of a subscription). */
export function collect<T extends Emitter, E extends keyof EventsOf<T> & string>(emitter: T, event: E): Collected<EventCtx<T, E>> {
  const e = loose(emitter);
  const items: EventCtx<T, E>[] = [];
  const waiters: Array<() => void> = [];
  const listener = (ctx: EventCtx<T, E>): void => {
    items.push(ctx);
    for (const w of [...waiters]) w();
  };
  e.on(event, listener);
  return {
    items,
    stop: () => e.off(event, listener),
    waitFor(n, timeoutMs = 5000) {
      if (items.length >= n) return Promise.resolve(items);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (items.length < n) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(items);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`collected ${items.length} '${event}' events within ${timeoutMs} ms, wanted ${n}: ${JSON.stringify(items).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.push(check);
      });
    },
  };
}

/** One entry of a {@link timeline}: which event, and its ctx. */
export interface TimelineEntry {
  readonly event: string;
  readonly ctx: any;
}

/** Records the given events of `emitter` into one list, in the order they were emitted. */
export function timeline(emitter: unknown, events: readonly string[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const event of events) loose(emitter).on(event, (ctx: unknown) => out.push({ event, ctx }));
  return out;
}

/**
 * A `ws` WebSocket class for the client's `websocket` option that remembers every socket it
 * opened, so a test can cut one (`terminate()`: the TCP socket is destroyed, no close frame).
 */
export function recordingWebSocket(): { readonly WebSocket: typeof WebSocket; readonly sockets: WebSocket[]; last(): WebSocket } {
  const sockets: WebSocket[] = [];
  class Recorded extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  return {
    WebSocket: Recorded as unknown as typeof WebSocket,
    sockets,
    last() {
      const ws = sockets.at(-1);
      if (!ws) throw new Error('the client opened no WebSocket yet');
      return ws;
    },
  };
}

/**
 * An HS256 JWT for `user` (the `sub` claim) signed with `secret` (default HMAC_SECRET), plus
 * `claims`. `expiresIn` is in seconds from now (no `exp` when omitted); a negative value makes an
 * expired token.
 */
export function userToken(user: string, options: { secret?: string; expiresIn?: number; claims?: JWTPayload } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return mintToken(hmacKey(options.secret ?? HMAC_SECRET), {
    ...options.claims, sub: user, iat: now, ...(options.expiresIn !== undefined ? { exp: now + options.expiresIn } : {}),
  });
}
