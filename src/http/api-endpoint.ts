/**
 * POST /api/<method>: the server API over HTTP. The key is checked in constant time; the body
 * is read up to a limit and parsed; the method's outcome decides the status: 200 for results
 * and command errors (Centrifugo's shape: {"error": {...}} in the body), 400 for a malformed
 * request, 401 for a missing or wrong key, 404 for an unknown method (or the API switched off),
 * 405 for a method other than POST, 413 for a body over the limit.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../protocol/codes.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../protocol/json-text.js';
import { readBody } from '../util/read-body.js';
import { sendJson, type Handler } from './dispatcher.js';
import { API_METHODS, JsonSource, type ServerApi } from './server-api.js';

export const API_PREFIX = '/api/';

/** Observes every call, for metrics. */
export type ApiObserver = (method: string, outcome: string) => void;

function apiError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

/** The key a request presents: X-API-Key, `Authorization: apikey KEY`, or `?api_key=`. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^apikey\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const q = (req.url ?? '').indexOf('?');
  if (q !== -1) return new URLSearchParams((req.url ?? '').slice(q + 1)).get('api_key') ?? undefined;
  return undefined;
}

function keysMatch(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface ApiEndpointOptions {
  /** The key; undefined switches the API off (404). */
  readonly key: string | undefined;
  readonly maxBodyBytes: number;
  readonly observe?: ApiObserver;
}

/** The handler for /api/<method>. */
export function apiEndpoint(api: ServerApi, options: ApiEndpointOptions): Handler {
  return async (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0]!;
    let method: string;
    try {
      method = decodeURIComponent(path.slice(API_PREFIX.length));
    } catch {
      method = path.slice(API_PREFIX.length); // not valid percent-encoding: an unknown method below
    }
    const observe = (outcome: string): void => options.observe?.(API_METHODS.includes(method) ? method : 'unknown', outcome);
    if (options.key === undefined) {
      observe('off');
      return apiError(res, 404, ErrorCode.NotAvailable, 'the server API is off: configure api_key (--api-key or CANAL_API_KEY) to turn it on');
    }
    if (req.method !== 'POST') {
      observe('bad_request');
      return apiError(res, 405, ErrorCode.BadRequest, `method ${req.method ?? ''} not allowed: call the server API with POST and a JSON body`, { allow: 'POST' });
    }
    const key = presentedKey(req);
    if (key === undefined || !keysMatch(key, options.key)) {
      observe('unauthorized');
      req.resume();
      return apiError(res, 401, ErrorCode.Unauthorized, key === undefined
        ? 'unauthorized: send the API key as "X-API-Key: KEY" or "Authorization: apikey KEY"'
        : 'unauthorized: wrong API key');
    }
    if (method === '') {
      observe('not_found');
      return apiError(res, 404, ErrorCode.MethodNotFound, `method not found: POST /api/<method> with one of ${API_METHODS.join(', ')}`);
    }
    const body = await readBody(req, options.maxBodyBytes);
    if (body === undefined) {
      observe('bad_request');
      // The rest of the body is never read: answer, then close the connection.
      res.once('finish', () => req.socket.destroy());
      return apiError(res, 413, ErrorCode.LimitExceeded, `request body too large: at most ${options.maxBodyBytes} bytes`, { connection: 'close' });
    }
    let params: unknown = {};
    const text = body.toString('utf8');
    if (body.length > 0) {
      if (jsonDepth(text) > MAX_JSON_DEPTH) {
        observe('bad_request');
        return apiError(res, 400, ErrorCode.BadRequest, `bad request: the body nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
      }
      try {
        params = JSON.parse(text);
      } catch (err) {
        observe('bad_request');
        return apiError(res, 400, ErrorCode.BadRequest, `bad request: the body is not valid JSON (${(err as Error).message})`);
      }
    }
    const result = await api.call(method, params, body.length > 0 ? new JsonSource(text) : undefined);
    observe(result.outcome);
    const status = result.outcome === 'bad_request' ? 400 : result.outcome === 'not_found' ? 404 : 200;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(result.body),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(result.body);
  };
}
