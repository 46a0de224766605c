/**
 * The multiplayer arena game's server side, on canal's embedding API only — a template for a
 * server-authoritative real-time game:
 *
 * - pages call RPCs: `game.join {room, name}`, `game.input {room, dir: {x, y}}` (or
 *   `keys: ["up", "left"]`) when their steering changes, `game.leave {room}`;
 * - the server owns the truth: it simulates every room with players at 20 ticks/s (the pure rules
 *   live in game-sim.ts) and publishes each tick's snapshot to `game:<room>` with Canal.publish;
 * - pages subscribe to `game:<room>` and draw what they receive; they never move a dot themselves.
 *
 * A player leaves when its page calls game.leave, when its connection closes (onDisconnect) or
 * after a while without input. There is no timer while no room has players.
 */
import type { Canal } from '../canal.js';
import type { DisconnectContext, RpcContext } from '../handlers.js';
import { ErrorCode } from '../protocol/codes.js';
import { ReplyError } from '../protocol/errors.js';
import {
  addPlayer, createWorld, DEFAULT_RULES, idlePlayers, nextRandom, removePlayer, steer, step, toSnapshot,
  type Rules, type Snapshot, type Vec, type World,
} from './game-sim.js';

/** What the game needs from canal: publishing. (A Canal is one.) */
export type GamePublisher = Pick<Canal, 'publish'>;

/**
 * Runs `tick` every `everyMs` until the returned function is called. The default is an unref'd
 * setInterval; tests pass one they drive by hand.
 */
export type Scheduler = (tick: () => void, everyMs: number) => () => void;

export interface GameOptions {
  /** Milliseconds per simulation step and snapshot; default 50 (20 ticks/s). */
  readonly tickMs?: number;
  /** Rooms played at once; default 20. A join that would open one more gets 106. */
  readonly maxRooms?: number;
  /** Players in one room; default 12. A join into a full room gets 106. */
  readonly maxPlayersPerRoom?: number;
  /** A player with no input for this long is removed; default 120 000 (2 minutes). */
  readonly idleTimeoutMs?: number;
  /** Seeds the rooms' random numbers (item and player placement); default random. */
  readonly seed?: number;
  /** Arena size, speeds and item count; default {@link DEFAULT_RULES}. */
  readonly rules?: Partial<Rules>;
  readonly scheduler?: Scheduler;
  /** Called with each failed publish (the engine may be down); the game keeps running. Default: ignored. */
  readonly onError?: (err: unknown) => void;
}

/** What game.join answers. */
export interface JoinResult {
  /** The player's id in the snapshots. */
  readonly player: string;
  readonly room: string;
  /** Where the snapshots are published. */
  readonly channel: string;
  readonly tickMs: number;
  readonly rules: Rules;
  /** The room as it is now, to draw before the first publication arrives. */
  readonly snapshot: Snapshot;
}

export interface Game {
  /** Starts accepting joins; snapshots are published through `canal`. Call after listen(). */
  start(canal: GamePublisher): void;
  /** Removes every player and room and stops the loop; joins fail with 108 until start() again. */
  stop(): void;
  /** Answers the game.* RPCs; throws ReplyError 107 on bad input, 106 past a limit, 104 for an unknown method. */
  onRpc(ctx: RpcContext): Promise<unknown>;
  /** Removes the player of the connection that closed, if it had one. */
  onDisconnect(ctx: DisconnectContext): void;
  /** The current state of `room`, or undefined when nobody plays there (for tests and tools). */
  snapshot(room: string): Snapshot | undefined;
}

const ROOM = /^[a-z0-9-]{1,32}$/;
const NAME_MAX = 20;
/** Control, format, unassigned and private-use characters: nothing a name needs, several that can fake one. */
const NOT_IN_NAMES = /\p{C}/u;
const KEYS: Readonly<Record<string, Vec>> = { up: { x: 0, y: -1 }, down: { x: 0, y: 1 }, left: { x: -1, y: 0 }, right: { x: 1, y: 0 } };

interface Room {
  world: World;
  /** player id -> client id of its connection */
  readonly clients: Map<string, string>;
}

/** Where a connection plays: one player per connection. */
interface Seat {
  readonly room: string;
  readonly player: string;
}

const defaultScheduler: Scheduler = (tick, everyMs) => {
  const timer = setInterval(tick, everyMs);
  timer.unref(); // the game never keeps a process alive on its own
  return () => clearInterval(timer);
};

function whole(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`createGame: ${name} must be a whole number from ${min} to ${max}, got ${v}`);
  return v;
}

/** A game with no rooms yet. Throws RangeError for an option out of range. */
export function createGame(options: GameOptions = {}): Game {
  const tickMs = whole(options.tickMs, 50, 5, 1000, 'tickMs');
  const maxRooms = whole(options.maxRooms, 20, 1, 10_000, 'maxRooms');
  const maxPlayers = whole(options.maxPlayersPerRoom, 12, 1, 100, 'maxPlayersPerRoom');
  const idleTicks = Math.ceil(whole(options.idleTimeoutMs, 120_000, tickMs, 86_400_000, 'idleTimeoutMs') / tickMs);
  const rules: Rules = { ...DEFAULT_RULES, ...options.rules };
  for (const [key, v] of Object.entries(rules)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (key !== 'items' && v === 0)) throw new RangeError(`createGame: rules.${key} must be a positive number, got ${String(v)}`);
  }
  if (!Number.isInteger(rules.items)) throw new RangeError(`createGame: rules.items must be a whole number, got ${rules.items}`);
  if (2 * rules.playerRadius >= Math.min(rules.width, rules.height)) throw new RangeError('createGame: rules.playerRadius must leave room to move in the arena');
  const schedule = options.scheduler ?? defaultScheduler;
  const onError = options.onError ?? ((): void => {});
  let seed = (options.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;

  let canal: GamePublisher | undefined;
  const rooms = new Map<string, Room>();
  const seats = new Map<string, Seat>(); // client id -> seat
  let stopLoop: (() => void) | undefined;

  function publish(room: string, world: World): void {
    if (!canal) return;
    try {
      canal.publish(`game:${room}`, toSnapshot(world)).catch(onError);
    } catch (err) {
      onError(err);
    }
  }

  /** One tick: every room moves on, idle players are removed, and the new state goes out. */
  function tick(): void {
    for (const [name, room] of rooms) {
      room.world = step(room.world, tickMs / 1000);
      for (const id of idlePlayers(room.world, idleTicks)) {
        const client = room.clients.get(id);
        if (client !== undefined) seats.delete(client);
        room.clients.delete(id);
        room.world = removePlayer(room.world, id);
      }
      publish(name, room.world);
      if (room.world.players.length === 0) rooms.delete(name);
    }
    if (rooms.size === 0) stopTicking();
  }

  function stopTicking(): void {
    stopLoop?.();
    stopLoop = undefined;
  }

  /** Removes a seated player; the room's last player closes the room, after one last (empty) snapshot for the watchers. */
  function unseat(client: string): boolean {
    const seat = seats.get(client);
    if (!seat) return false;
    seats.delete(client);
    const room = rooms.get(seat.room);
    if (!room) return true;
    room.clients.delete(seat.player);
    room.world = removePlayer(room.world, seat.player);
    if (room.world.players.length === 0) {
      publish(seat.room, room.world);
      rooms.delete(seat.room);
      if (rooms.size === 0) stopTicking();
    }
    return true;
  }

  function join(client: string, data: Record<string, unknown>): JoinResult {
    const roomName = parseRoom(data.room);
    const name = parseName(data.name);
    if (!canal) throw new ReplyError(ErrorCode.NotAvailable, 'the game is not running');
    const seat = seats.get(client);
    if (seat && seat.room !== roomName) unseat(client); // one player per connection: joining elsewhere leaves here
    let room = rooms.get(roomName);
    if (seat && room && seat.room === roomName) return joinResult(roomName, room, seat.player); // already in: idempotent
    if (!room) {
      if (rooms.size >= maxRooms) throw new ReplyError(ErrorCode.LimitExceeded, `${maxRooms} rooms are in play, the most this server runs: join one of them or try later`);
      const [fraction, next] = nextRandom(seed); // each room its own seed, drawn from the game's
      seed = next;
      room = { world: createWorld(Math.floor(fraction * 2 ** 32), rules), clients: new Map() };
      rooms.set(roomName, room);
    }
    if (room.world.players.length >= maxPlayers) throw new ReplyError(ErrorCode.LimitExceeded, `room ${roomName} is full (${maxPlayers} players): try another room`);
    const added = addPlayer(room.world, name);
    room.world = added.world;
    room.clients.set(added.player.id, client);
    seats.set(client, { room: roomName, player: added.player.id });
    stopLoop ??= schedule(tick, tickMs);
    return joinResult(roomName, room, added.player.id);
  }

  function joinResult(roomName: string, room: Room, player: string): JoinResult {
    return { player, room: roomName, channel: `game:${roomName}`, tickMs, rules, snapshot: toSnapshot(room.world) };
  }

  function input(client: string, data: Record<string, unknown>): Record<string, never> {
    const roomName = parseRoom(data.room);
    const dir = parseSteering(data);
    const seat = seats.get(client);
    const room = rooms.get(roomName);
    if (!seat || seat.room !== roomName || !room) throw new ReplyError(ErrorCode.BadRequest, `you are not playing in room ${roomName}: call game.join first`);
    room.world = steer(room.world, seat.player, dir);
    return {};
  }

  function leave(client: string, data: Record<string, unknown>): { left: boolean } {
    const roomName = parseRoom(data.room);
    if (seats.get(client)?.room !== roomName) return { left: false };
    return { left: unseat(client) };
  }

  return {
    start(c) {
      canal = c;
    },
    stop() {
      stopTicking();
      rooms.clear();
      seats.clear();
      canal = undefined;
    },
    async onRpc(ctx) {
      const data = parseObject(ctx.data);
      switch (ctx.method) {
        case 'game.join':
          return join(ctx.client, data);
        case 'game.input':
          return input(ctx.client, data);
        case 'game.leave':
          return leave(ctx.client, data);
        default:
          throw new ReplyError(ErrorCode.MethodNotFound, `method not found: ${JSON.stringify(ctx.method)} (the game's methods: game.join, game.input, game.leave)`);
      }
    },
    onDisconnect(ctx) {
      unseat(ctx.client);
    },
    snapshot(room) {
      const r = rooms.get(room);
      return r ? toSnapshot(r.world) : undefined;
    },
  };
}

// Input validation: every field a page sends is checked here, and a bad one is answered with
// 107 and a sentence saying what is expected (the page shows it).

function parseObject(data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ReplyError(ErrorCode.BadRequest, 'data must be an object such as {"room":"lobby"}');
  return data as Record<string, unknown>;
}

function parseRoom(value: unknown): string {
  if (typeof value !== 'string' || !ROOM.test(value)) throw new ReplyError(ErrorCode.BadRequest, 'room must be 1-32 of a-z 0-9 -');
  return value;
}

function parseName(value: unknown): string {
  if (typeof value !== 'string') throw new ReplyError(ErrorCode.BadRequest, `name must be a string of 1-${NAME_MAX} characters`);
  const name = value.trim().replace(/\s+/g, ' ');
  const length = [...name].length; // code points, so that an emoji counts as one
  if (length === 0 || length > NAME_MAX) throw new ReplyError(ErrorCode.BadRequest, `name must be 1-${NAME_MAX} characters, got ${length}`);
  if (NOT_IN_NAMES.test(name)) throw new ReplyError(ErrorCode.BadRequest, 'name may not contain control or invisible characters');
  return name;
}

/** `dir: {x, y}` with x and y from -1 to 1, or `keys`: the arrow keys held, e.g. ["up", "left"]. */
function parseSteering(data: Record<string, unknown>): Vec {
  const { dir, keys } = data;
  if ((dir === undefined) === (keys === undefined)) throw new ReplyError(ErrorCode.BadRequest, 'send either dir {x, y} or keys ["up", "down", "left", "right"]');
  if (dir !== undefined) {
    const d = dir as Partial<Record<'x' | 'y', unknown>> | null;
    const inRange = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= -1 && v <= 1;
    if (typeof d !== 'object' || d === null || !inRange(d.x) || !inRange(d.y)) throw new ReplyError(ErrorCode.BadRequest, 'dir must be {x, y} with x and y numbers from -1 to 1');
    return { x: d.x, y: d.y };
  }
  if (!Array.isArray(keys) || keys.length > 4) throw new ReplyError(ErrorCode.BadRequest, 'keys must be a list of at most 4 of "up", "down", "left", "right"');
  let x = 0;
  let y = 0;
  for (const key of new Set(keys)) {
    const v = typeof key === 'string' && Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (!v) throw new ReplyError(ErrorCode.BadRequest, `unknown key ${JSON.stringify(key)}: keys are "up", "down", "left", "right"`);
    x += v.x;
    y += v.y;
  }
  return { x, y };
}
