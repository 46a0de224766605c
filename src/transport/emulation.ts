/**
 * Bidirectional emulation over HTTP, as the centrifuge client's `http_stream` and `sse`
 * transports speak it (its `transports` option, with `emulationEndpoint`):
 *
 * - `POST /connection/http_stream` — the body is the connect command (JSON, or Protobuf with
 *   `Content-Type: application/octet-stream`); the response streams the server's frames.
 * - `GET /connection/sse?cf_connect=<connect command as JSON>` — the same as Server-Sent Events.
 * - `POST /emulation` — `{"session","node","data"}` (JSON; `data` is the commands' text) or a
 *   Protobuf EmulationRequest: the client's later commands, for the session that the connect
 *   reply named. A node that does not hold the session passes them through the engine's control
 *   channel to the node that does (the Redis engine: any node behind a load balancer).
 *
 * Sessions are the same ClientSessions as on WebSocket: recovery, presence, limits, pings,
 * the slow-consumer cut-off and drain all apply. Origins are checked as at a WebSocket upgrade,
 * and allowed cross-origin pages get the CORS headers fetch and EventSource need.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { EmulationAction } from '../node.js';
import { CloseCode } from '../protocol/codes.js';
import { jsonCodec, protobufCodec, type Codec } from '../protocol/codec.js';
import { decodeProtobufEmulationRequest } from '../protocol/protobuf.js';
import { ClientSession } from '../session/client-session.js';
import type { SessionContext } from '../session/context.js';
import { readBody } from '../util/read-body.js';
import { HttpStreamConnection, type StreamFraming } from './http-stream-connection.js';
import type { Refusal } from './router.js';

export const HTTP_STREAM_PATH = '/connection/http_stream';
export const SSE_PATH = '/connection/sse';
export const EMULATION_PATH = '/emulation';

/** An HTTP request handler (the dispatcher's shape, declared here: transport does not import http/). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface EmulationOptions {
  readonly ctx: SessionContext;
  /** Checks run before a stream starts (draining, capacity): the WebSocket upgrade gates. */
  readonly admit: (req: IncomingMessage) => Refusal | undefined;
  /** Whether an Origin header value may use these endpoints. */
  readonly originAllowed: (origin: string | undefined) => boolean;
  /** The largest connect body or /emulation body taken, in bytes. */
  readonly maxBodyBytes: number;
  readonly log: Logger;
}

const PROTOBUF_TYPE = 'application/octet-stream';

/** The emulated sessions of this node by their secret session id, and the three endpoints. */
export class Emulation {
  readonly #options: EmulationOptions;
  readonly #sessions = new Map<string, ClientSession>();

  constructor(options: EmulationOptions) {
    this.#options = options;
    options.ctx.node.onEmulation = (action) => this.#deliverRemote(action);
  }

  /** Open emulated connections on this node. */
  get size(): number {
    return this.#sessions.size;
  }

  /** POST /connection/http_stream. */
  readonly httpStream: RequestHandler = async (req, res) => {
    if (this.#preflightOrRefused(req, res, 'POST')) return;
    const protobuf = contentType(req) === PROTOBUF_TYPE;
    const body = await readBodyOrGone(req, this.#options.maxBodyBytes);
    if (body === 'gone') return;
    if (body === undefined) {
      return tooLarge(res, this.#options.maxBodyBytes);
    }
    this.#start(req, res, 'http_stream', protobuf ? protobufCodec : jsonCodec, protobuf ? body : body.toString('utf8'));
  };

  /** GET /connection/sse?cf_connect=... (JSON only, as the client's EventSource transport sends it). */
  readonly sse: RequestHandler = (req, res) => {
    if (this.#preflightOrRefused(req, res, 'GET')) return;
    const connect = new URL(req.url ?? '/', 'http://x').searchParams.get('cf_connect');
    if (!connect) {
      return answer(res, 400, 'bad request: the connect command goes in the cf_connect query parameter (JSON)\n', corsHeaders(req));
    }
    if (Buffer.byteLength(connect) > this.#options.maxBodyBytes) return tooLarge(res, this.#options.maxBodyBytes);
    this.#start(req, res, 'sse', jsonCodec, connect);
  };

  /** POST /emulation: a client's commands for its emulated session, on this node or another. */
  readonly emulation: RequestHandler = async (req, res) => {
    if (this.#preflight(req, res, 'POST')) return;
    const cors = corsHeaders(req);
    const body = await readBodyOrGone(req, this.#options.maxBodyBytes);
    if (body === 'gone') return;
    if (body === undefined) return tooLarge(res, this.#options.maxBodyBytes);
    let request: { node: string; session: string; data: string | Uint8Array };
    try {
      request = contentType(req) === PROTOBUF_TYPE ? decodeProtobufEmulationRequest(body) : decodeJsonEmulationRequest(body);
    } catch (err) {
      return answer(res, 400, `${(err as Error).message}\n`, cors);
    }
    const { node } = this.#options.ctx;
    if (request.node === node.id) {
      if (!this.#deliver(request.session, request.data)) {
        return answer(res, 404, 'no such session on this node: it ended; the client reconnects\n', cors);
      }
      return answer(res, 204, '', cors);
    }
    const known = (await node.nodes()).some((n) => n.uid === request.node);
    if (!known) return answer(res, 404, `no node ${JSON.stringify(request.node)}: it left the cluster; the client reconnects\n`, cors);
    const binary = typeof request.data !== 'string';
    await node.control({
      op: 'emulation', node: request.node, session: request.session, binary,
      data: binary ? Buffer.from(request.data as Uint8Array).toString('base64') : (request.data as string),
    });
    answer(res, 204, '', cors);
  };

  /** Commands that another node's /emulation passed on. */
  #deliverRemote(action: EmulationAction): void {
    this.#deliver(action.session, action.binary ? Buffer.from(action.data, 'base64') : action.data);
  }

  #deliver(sessionId: string, data: string | Uint8Array): boolean {
    const session = this.#sessions.get(sessionId);
    if (!session) return false;
    if (typeof data === 'string') session.handleFrame(data);
    else session.handleBinary(data);
    return true;
  }

  /** Starts an emulated connection: headers out at once (the client counts the stream open), then the connect command. */
  #start(req: IncomingMessage, res: ServerResponse, framing: StreamFraming, codec: Codec, connect: string | Uint8Array): void {
    const { ctx, log } = this.#options;
    res.writeHead(200, {
      ...corsHeaders(req),
      'content-type': framing === 'sse' ? 'text/event-stream; charset=utf-8' : codec.binary ? PROTOBUF_TYPE : 'application/x-ndjson',
      'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0',
      // Proxies that buffer responses (nginx) would hold the stream back.
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();
    const sessionId = randomUUID();
    // The stream's opening request stands where a WebSocket's upgrade request does: its Cookie,
    // Authorization, ... reach the proxies that forward them (http_headers), as on WebSocket.
    const session = new ClientSession(new HttpStreamConnection(req, res, framing, codec), ctx, { codec, emulationSession: sessionId, upgradeHeaders: req.headers });
    this.#sessions.set(sessionId, session);
    res.once('close', () => {
      this.#sessions.delete(sessionId);
      session.connectionClosed(CloseCode.GoingAway);
    });
    // A stream cut by the peer or the network is the client's leaving, not our error.
    res.on('error', () => {});
    log.debug({ client: session.id, transport: framing, protocol: codec.name, remote: req.socket.remoteAddress }, 'emulated connection');
    if (typeof connect === 'string') session.handleFrame(connect);
    else session.handleBinary(connect);
  }

  /** Answers a CORS preflight, or refuses a wrong method, a foreign origin or a stream the node cannot take now. */
  #preflightOrRefused(req: IncomingMessage, res: ServerResponse, method: string): boolean {
    if (this.#preflight(req, res, method)) return true;
    const refusal = this.#options.admit(req);
    if (refusal) {
      answer(res, refusal.status, refusal.message, corsHeaders(req));
      return true;
    }
    return false;
  }

  #preflight(req: IncomingMessage, res: ServerResponse, method: string): boolean {
    const origin = req.headers.origin;
    if (!this.#options.originAllowed(origin)) {
      answer(res, 403, `origin ${origin ?? ''} is not allowed here (allowed_origins)\n`);
      return true;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...corsHeaders(req),
        'access-control-allow-methods': `${method}, OPTIONS`,
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '300',
      });
      res.end();
      return true;
    }
    if (req.method !== method) {
      answer(res, 405, `method ${req.method ?? ''} not allowed: use ${method}\n`, { allow: `${method}, OPTIONS`, ...corsHeaders(req) });
      return true;
    }
    return false;
  }
}

function contentType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** The CORS headers for an (already allowed) cross-origin page. */
function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return origin === undefined ? {} : { 'access-control-allow-origin': origin, vary: 'origin' };
}

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff', ...headers });
  res.end(body);
}

function tooLarge(res: ServerResponse, limit: number): void {
  res.setHeader('connection', 'close');
  answer(res, 413, `request body too large: at most ${limit} bytes (protocol_max_message_bytes)\n`);
}

/** `{"session":"...","node":"...","data":"<commands>"}`, as the client's JSON codec sends it. */
function decodeJsonEmulationRequest(body: Buffer): { node: string; session: string; data: string } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('bad request: the body is not JSON; send {"session": "...", "node": "...", "data": "<commands>"}');
  }
  const v = value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || typeof v.session !== 'string' || typeof v.node !== 'string' || typeof v.data !== 'string') {
    throw new Error('bad request: session, node and data must be strings (from the connect reply, and the commands as text)');
  }
  return { node: v.node, session: v.session, data: v.data };
}

/** The body as readBody reads it, or 'gone' when the client went away before it was whole. */
async function readBodyOrGone(req: IncomingMessage, limit: number): Promise<Buffer | undefined | 'gone'> {
  try {
    return await readBody(req, limit);
  } catch {
    return 'gone';
  }
}
