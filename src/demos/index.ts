/**
 * The demos' server side, for dev mode: the multiplayer game (RPC methods game.*) and the
 * scoreboard's admin page (RPC method scores.set). They use only canal's public API, like any
 * application embedding canal would:
 *
 *   const demos = createDemos();
 *   const canal = new Canal({ ...options, ...demos.handlers });
 *   await canal.listen();
 *   demos.start(canal);
 */
import type { Canal } from '../canal.js';
import type { DisconnectContext, Handlers, RpcContext } from '../handlers.js';
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';
import { createGame, type Game, type GameOptions } from './game.js';
import { createScoreboard, type Scoreboard } from './scoreboard.js';

export interface Demos {
  /** Handlers to pass to new Canal(). */
  readonly handlers: Pick<Handlers, 'onRpc' | 'onDisconnect'>;
  /** Starts what runs by itself (the game loop); call after listen(). */
  start(canal: Canal): void;
  stop(): void;
}

export interface DemosOptions {
  /** Options of the game (tick, limits, rules); its defaults otherwise. */
  readonly game?: GameOptions;
}

export function createDemos(options: DemosOptions = {}): Demos {
  const game: Game = createGame(options.game);
  const scoreboard: Scoreboard = createScoreboard();
  return {
    handlers: {
      async onRpc(ctx: RpcContext): Promise<unknown> {
        if (ctx.method.startsWith('game.')) return game.onRpc(ctx);
        if (ctx.method.startsWith('scores.')) return scoreboard.onRpc(ctx);
        throw new ReplyError(ErrorCode.MethodNotFound, `method not found: ${JSON.stringify(ctx.method)} (demo methods: game.join, game.input, game.leave, scores.set)`);
      },
      onDisconnect(ctx: DisconnectContext): void {
        game.onDisconnect(ctx);
      },
    },
    start(canal: Canal): void {
      game.start(canal);
      scoreboard.start(canal);
    },
    stop(): void {
      game.stop();
    },
  };
}
