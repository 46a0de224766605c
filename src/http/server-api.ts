/**
 * The server API's methods, compatible with Centrifugo's HTTP API: each takes checked JSON
 * parameters and answers `{"result": ...}` or `{"error": {"code", "message"}}` as JSON text.
 * Transport concerns (HTTP status, API key, body size) live in api-endpoint.ts.
 */
import { requireHistory, requirePresence } from '../auth/channel-rights.js';
import type { Logger } from '../log.js';
import type { CanalNode } from '../node.js';
import { DisconnectCode, ErrorCode } from '../protocol/codes.js';
import { encodeResult } from '../protocol/encode.js';
import { compactJson, documentSpan, elementsAt, memberAt, type Span } from '../protocol/json-text.js';
import { DisconnectError, toWire } from '../protocol/errors.js';
import type { JsonText, StreamPosition } from '../protocol/types.js';
import { EngineUnavailableError } from '../engine/types.js';
import { withDefined } from '../util/defined.js';
import { globMatcher, MAX_GLOB_LENGTH } from '../util/glob.js';
import { TimeSlice } from '../util/time-slice.js';
import { BadParamsError, checkParams, type ParamsSpec } from './api-params.js';

const SPECS: Readonly<Record<string, ParamsSpec>> = {
  publish: {
    channel: { type: 'string', required: true }, data: { type: 'json', required: true }, skip_history: { type: 'boolean' },
    tags: { type: 'stringMap' }, idempotency_key: { type: 'string' },
  },
  broadcast: {
    channels: { type: 'strings', required: true }, data: { type: 'json', required: true }, skip_history: { type: 'boolean' },
    tags: { type: 'stringMap' }, idempotency_key: { type: 'string' },
  },
  subscribe: { user: { type: 'string', required: true }, channel: { type: 'string', required: true }, client: { type: 'string' } },
  unsubscribe: { user: { type: 'string', required: true }, channel: { type: 'string', required: true }, client: { type: 'string' } },
  disconnect: { user: { type: 'string', required: true }, client: { type: 'string' }, disconnect: { type: 'disconnect' } },
  refresh: { user: { type: 'string', required: true }, client: { type: 'string' }, expired: { type: 'boolean' }, expire_at: { type: 'integer' } },
  presence: { channel: { type: 'string', required: true } },
  presence_stats: { channel: { type: 'string', required: true } },
  history: { channel: { type: 'string', required: true }, limit: { type: 'integer' }, since: { type: 'position' }, reverse: { type: 'boolean' } },
  history_remove: { channel: { type: 'string', required: true } },
  channels: { pattern: { type: 'string' } },
  info: {},
  batch: { commands: { type: 'commands', required: true }, parallel: { type: 'boolean' } },
};

/** The API's method names, in documentation order. */
export const API_METHODS: readonly string[] = Object.keys(SPECS);

/** How the caller learns the outcome: the JSON reply and whether the request itself was malformed. */
export interface ApiOutcome {
  /** `{"result":...}` or `{"error":...}` */
  readonly body: string;
  /** 'ok' | 'error' (a command error, e.g. 102) | 'bad_request' (malformed parameters) | 'not_found' (unknown method) */
  readonly outcome: 'ok' | 'error' | 'bad_request' | 'not_found';
  /** The error code, when there is one (for metrics). */
  readonly code?: number;
}

const MAX_BATCH = 1000;

/**
 * How long a broadcast or batch runs before it lets the event loop turn: other clients wait
 * at most about this long behind one long API call.
 */
const SLICE_MS = 5;

export class ServerApi {
  readonly #node: CanalNode;
  readonly #log: Logger;
  readonly #channelsTimeoutMs: number;

  /** `channelsTimeoutMs`: how long the cluster-wide `channels` call waits for the other nodes. */
  constructor(node: CanalNode, log: Logger, channelsTimeoutMs = 1000) {
    this.#node = node;
    this.#log = log;
    this.#channelsTimeoutMs = channelsTimeoutMs;
  }

  /**
   * Calls `method` with `params`. `source` is the JSON text `params` was parsed from, when
   * there is one: publication data is taken from it as written (JSON.parse rounds integers past
   * 2^53). Never throws.
   */
  async call(method: string, params: unknown, source?: JsonSource): Promise<ApiOutcome> {
    // Own properties only: a method named "constructor" or "toString" is unknown, not Object's member.
    const spec = Object.hasOwn(SPECS, method) ? SPECS[method] : undefined;
    if (!spec) {
      return error(ErrorCode.MethodNotFound, `method not found: ${JSON.stringify(method)} (methods: ${API_METHODS.join(', ')})`, 'not_found');
    }
    let checked: Record<string, unknown>;
    try {
      checked = checkParams(method, params ?? {}, spec);
    } catch (err) {
      if (err instanceof BadParamsError) return error(ErrorCode.BadRequest, err.message, 'bad_request');
      throw err;
    }
    try {
      return { body: `{"result":${await this.#run(method, checked, source)}}`, outcome: 'ok' };
    } catch (err) {
      if (err instanceof BadParamsError) return error(ErrorCode.BadRequest, err.message, 'bad_request');
      if (err instanceof EngineUnavailableError) this.#log.warn({ err, method }, 'server API: engine unavailable');
      const wire = toWire(err);
      if (wire.kind === 'reply') return error(wire.code, wire.message, 'error', wire.temporary);
      this.#log.error({ err, method }, 'server API call failed');
      return error(ErrorCode.Internal, 'internal server error', 'error', true);
    }
  }

  async #run(method: string, p: Record<string, unknown>, source: JsonSource | undefined): Promise<string> {
    const node = this.#node;
    switch (method) {
      case 'publish': {
        const position = await this.#publish(p.channel as string, dataOf(p, source), p);
        return JSON.stringify(position);
      }
      case 'broadcast': {
        const channels = p.channels as string[];
        if (channels.length === 0) throw new BadParamsError('bad request: broadcast.channels is empty');
        // The data's text is found once for every channel (finding it per channel rescanned the
        // whole body each time: 8,000 channels took 7.7 s, issue 13).
        const data = dataOf(p, source);
        const slice = new TimeSlice(SLICE_MS);
        const pending: Array<Promise<string>> = [];
        for (const channel of channels) {
          if (slice.due()) await slice.yield();
          pending.push(this.#publish(channel, data, p).then((position) => `{"result":${JSON.stringify(position)}}`, (err: unknown) => {
            const wire = toWire(err);
            if (wire.kind === 'reply') return errorBody(wire.code, wire.message, wire.temporary);
            this.#log.error({ err, channel }, 'server API broadcast failed for a channel');
            return errorBody(ErrorCode.Internal, 'internal server error', true);
          }));
        }
        return `{"responses":[${(await Promise.all(pending)).join(',')}]}`;
      }
      case 'subscribe': {
        node.requireNamespace(p.channel as string);
        await node.control(withDefined({ op: 'subscribe', user: p.user as string, channel: p.channel as string }, { client: p.client }));
        return '{}';
      }
      case 'unsubscribe': {
        await node.control(withDefined({ op: 'unsubscribe', user: p.user as string, channel: p.channel as string }, { client: p.client }));
        return '{}';
      }
      case 'disconnect': {
        const d = p.disconnect as { code: number; reason?: string } | undefined;
        const code = d?.code ?? DisconnectCode.ForceNoReconnect;
        const reason = new DisconnectError(code, d?.reason || undefined).reason; // cut to what a close frame holds
        await node.control(withDefined({ op: 'disconnect', user: p.user as string, code, reason }, { client: p.client }));
        return '{}';
      }
      case 'refresh': {
        await node.control(withDefined({ op: 'refresh', user: p.user as string }, {
          client: p.client,
          expired: p.expired === true ? true : undefined,
          expireAt: p.expire_at === undefined ? undefined : (p.expire_at as number) * 1000,
        }));
        return '{}';
      }
      case 'presence': {
        requirePresence(node.requireNamespace(p.channel as string), p.channel as string);
        return encodeResult('presence', { presence: await node.presence(p.channel as string) });
      }
      case 'presence_stats': {
        requirePresence(node.requireNamespace(p.channel as string), p.channel as string);
        const s = await node.presenceStats(p.channel as string);
        return JSON.stringify({ num_clients: s.numClients, num_users: s.numUsers });
      }
      case 'history': {
        const channel = p.channel as string;
        const ns = node.requireNamespace(channel);
        requireHistory(ns, channel);
        const page = await node.history(channel, ns, withDefined(
          { limit: (p.limit as number | undefined) ?? 0, reverse: p.reverse === true },
          { since: p.since as StreamPosition | undefined },
        ));
        return encodeResult('history', { publications: page.publications, epoch: page.position.epoch, offset: page.position.offset });
      }
      case 'history_remove': {
        requireHistory(node.requireNamespace(p.channel as string), p.channel as string);
        await node.removeHistory(p.channel as string);
        return '{}';
      }
      case 'channels': {
        const pattern = p.pattern as string | undefined;
        if (pattern !== undefined && pattern.length > MAX_GLOB_LENGTH) {
          throw new BadParamsError(`bad request: channels.pattern is longer than ${MAX_GLOB_LENGTH} characters`);
        }
        // Every node is asked through the broker and the answers merged; nodes that did not
        // answer within redis_timeout are named in missing_nodes (the answer is then partial).
        const { channels, missing } = await node.clusterChannels(pattern, this.#channelsTimeoutMs);
        const out: Record<string, { num_clients: number }> = {};
        for (const [channel, n] of Object.entries(channels)) out[channel] = { num_clients: n };
        return JSON.stringify(missing.length > 0 ? { channels: out, incomplete: true, missing_nodes: missing } : { channels: out });
      }
      case 'info': {
        return JSON.stringify({ nodes: await node.nodes() });
      }
      case 'batch': {
        const commands = p.commands as Array<{ method: string; params?: unknown }>;
        if (commands.length > MAX_BATCH) throw new BadParamsError(`bad request: a batch holds at most ${MAX_BATCH} commands`);
        if (commands.some((c) => c.method === 'batch')) throw new BadParamsError('bad request: a batch cannot contain a batch');
        // Every command's source is found in one pass over the body, not one pass per command.
        const sources = source?.elements('commands');
        const slice = new TimeSlice(SLICE_MS);
        const replies: Array<ApiOutcome | Promise<ApiOutcome>> = [];
        for (const [i, c] of commands.entries()) {
          if (slice.due()) await slice.yield();
          const reply = this.call(c.method, c.params ?? {}, sources?.[i]?.member('params'));
          replies.push(p.parallel === true ? reply : await reply);
        }
        return `{"replies":[${(await Promise.all(replies)).map((r) => r.body).join(',')}]}`;
      }
      default:
        throw new Error(`unhandled API method ${method}`);
    }
  }

  #publish(channel: string, data: JsonText, p: Record<string, unknown>): Promise<StreamPosition> {
    return this.#node.publish(channel, withDefined(
      { data },
      {
        skipHistory: p.skip_history === true ? true : undefined,
        tags: p.tags as Record<string, string> | undefined,
        idempotencyKey: p.idempotency_key as string | undefined,
      },
    ));
  }

}

/** The publication data of `p` as JSON text: as written in the request when there is one. */
function dataOf(p: Record<string, unknown>, source: JsonSource | undefined): JsonText {
  return (source?.value('data') ?? JSON.stringify(p.data)) as JsonText;
}

/**
 * Where a call's parameters came from: the JSON text of the request, and where in it the
 * parameters object lies. Each lookup scans only that object, once.
 */
export class JsonSource {
  readonly #text: string;
  readonly #span: Span;

  constructor(text: string, span: Span = documentSpan(text)) {
    this.#text = text;
    this.#span = span;
  }

  /** The compacted JSON text of member `key` of the parameters, if present. */
  value(key: string): string | undefined {
    const span = memberAt(this.#text, this.#span, key);
    return span && compactJson(this.#text.slice(span.start, span.end));
  }

  /** The source of member `key`, when present. */
  member(key: string): JsonSource | undefined {
    const span = memberAt(this.#text, this.#span, key);
    return span && new JsonSource(this.#text, span);
  }

  /** The sources of the elements of array member `key`, found in one pass; undefined when absent. */
  elements(key: string): JsonSource[] | undefined {
    const span = memberAt(this.#text, this.#span, key);
    return span && elementsAt(this.#text, span)?.map((s) => new JsonSource(this.#text, s));
  }
}

function errorBody(code: number, message: string, temporary = false): string {
  return `{"error":${JSON.stringify(withDefined({ code, message }, { temporary: temporary || undefined }))}}`;
}

function error(code: number, message: string, outcome: ApiOutcome['outcome'], temporary = false): ApiOutcome {
  return { body: errorBody(code, message, temporary), outcome, code };
}
