/**
 * The scoreboard admin's server side: RPC `scores.set {match, home, away}` publishes the new
 * score to `scores:<match>`, a latest-value channel, so every viewer — even one who opens the
 * page later — sees it at once. (Backends do the same through the server API:
 * `canal publish scores:final '{"home":2,"away":1}'`.)
 */
import type { Canal } from '../canal.js';
import type { RpcContext } from '../handlers.js';
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';

export interface Scoreboard {
  start(canal: Canal): void;
  onRpc(ctx: RpcContext): Promise<unknown>;
}

const MATCH = /^[a-z0-9-]{1,32}$/;

function score(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 999) {
    throw new ReplyError(ErrorCode.BadRequest, `${field} must be a whole number from 0 to 999`);
  }
  return value;
}

export function createScoreboard(): Scoreboard {
  let canal: Canal | undefined;
  return {
    start(c) {
      canal = c;
    },
    async onRpc(ctx) {
      if (ctx.method !== 'scores.set') throw new ReplyError(ErrorCode.MethodNotFound, `method not found: ${ctx.method}`);
      const d = (ctx.data ?? {}) as Record<string, unknown>;
      if (typeof d.match !== 'string' || !MATCH.test(d.match)) throw new ReplyError(ErrorCode.BadRequest, 'match must be 1-32 of a-z 0-9 -');
      const update = { home: score(d.home, 'home'), away: score(d.away, 'away'), ...(typeof d.minute === 'number' ? { minute: d.minute } : {}) };
      if (!canal) throw new ReplyError(ErrorCode.NotAvailable, 'the scoreboard is not running');
      const position = await canal.publish(`scores:${d.match}`, update);
      return { offset: position.offset };
    },
  };
}
