/**
 * The arena game's rules as pure functions: a world and an input go in, a new world comes out.
 * Nothing here reads a clock, starts a timer, touches a socket or calls Math.random — the random
 * numbers come from a seed kept inside the world — so the same world and the same inputs always
 * give the same next world, and a test can replay any game. (game.ts adds the I/O: RPCs, the
 * 20 ticks/s loop, publishing.)
 *
 * Units: positions in arena units (the page scales them to its canvas), time in seconds.
 */

/** A 2-D vector: a position or a direction. */
export interface Vec {
  readonly x: number;
  readonly y: number;
}

export interface Player {
  /** Unique within its world (`p1`, `p2`...), never reused. */
  readonly id: string;
  readonly name: string;
  /** A CSS colour. */
  readonly color: string;
  readonly x: number;
  readonly y: number;
  /** Where the player steers: a vector of length 0 (standing still) to 1 (full speed). */
  readonly dir: Vec;
  readonly score: number;
  /** The tick of the player's join or last input: the idle timeout counts from it. */
  readonly activeTick: number;
}

/** Something to collect: touching it scores 1 point, and it reappears elsewhere. */
export interface Item {
  /** Unique within its world; a respawned item gets a new id. */
  readonly id: number;
  readonly x: number;
  readonly y: number;
}

/** The sizes and speeds of a world; fixed when it is created. */
export interface Rules {
  readonly width: number;
  readonly height: number;
  /** Arena units per second at full speed. */
  readonly speed: number;
  readonly playerRadius: number;
  readonly itemRadius: number;
  /** How many items lie in the arena at any time. */
  readonly items: number;
}

export const DEFAULT_RULES: Rules = { width: 800, height: 500, speed: 220, playerRadius: 14, itemRadius: 9, items: 5 };

/**
 * Player colours, picked so that a dot stands out on the light and the dark page background
 * alike. Colour is never the only cue: every dot carries its player's name.
 */
export const COLORS = ['#e63946', '#1d7fe0', '#2a9d3a', '#e07b00', '#9b5de5', '#00a6a6', '#d6338a', '#8d6e4a'] as const;

export interface World {
  readonly rules: Rules;
  /** How many steps this world has taken. */
  readonly tick: number;
  /** In join order (which also breaks ties: the earlier player gets an item both touch). */
  readonly players: readonly Player[];
  readonly items: readonly Item[];
  /** The state of the random number generator. */
  readonly seed: number;
  /** The number behind the next player id and item id. */
  readonly nextId: number;
}

/**
 * What the server publishes to `game:<room>` every tick: everything a page needs to draw one
 * frame. Positions are rounded to 0.1 unit to keep the JSON short.
 */
export interface Snapshot {
  /** The tick this is the state after. */
  readonly t: number;
  readonly arena: { readonly width: number; readonly height: number };
  readonly players: ReadonlyArray<{ readonly id: string; readonly name: string; readonly color: string; readonly x: number; readonly y: number }>;
  readonly items: ReadonlyArray<{ readonly id: number; readonly x: number; readonly y: number }>;
  /** `[player id, score]`, best first (ties: who joined first). */
  readonly scores: ReadonlyArray<readonly [string, number]>;
}

/**
 * One step of the mulberry32 generator: a number in [0, 1) and the next seed. Small, fast and
 * good enough for a game (https://gist.github.com/tommyettinger/46a874533244883189143505d203312c).
 */
export function nextRandom(seed: number): [value: number, seed: number] {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/** A new world with no players and `rules.items` items at random places derived from `seed`. */
export function createWorld(seed: number, rules: Rules = DEFAULT_RULES): World {
  let world: World = { rules, tick: 0, players: [], items: [], seed: seed >>> 0, nextId: 1 };
  for (let i = 0; i < rules.items; i++) world = spawnItem(world);
  return world;
}

/**
 * Adds a player called `name` at a random place, with the colour fewest players have, standing
 * still. Returns the new world and the new player.
 */
export function addPlayer(world: World, name: string): { world: World; player: Player } {
  const { playerRadius: r, width, height } = world.rules;
  let seed = world.seed;
  let fx: number;
  let fy: number;
  [fx, seed] = nextRandom(seed);
  [fy, seed] = nextRandom(seed);
  const player: Player = {
    id: `p${world.nextId}`,
    name,
    color: leastUsedColor(world.players),
    x: r + fx * (width - 2 * r),
    y: r + fy * (height - 2 * r),
    dir: { x: 0, y: 0 },
    score: 0,
    activeTick: world.tick,
  };
  return { world: { ...world, players: [...world.players, player], seed, nextId: world.nextId + 1 }, player };
}

/** The world without player `id` (the same world when there is no such player). */
export function removePlayer(world: World, id: string): World {
  if (!world.players.some((p) => p.id === id)) return world;
  return { ...world, players: world.players.filter((p) => p.id !== id) };
}

/**
 * Turns any direction into one of length at most 1, so that steering diagonally (right + down:
 * `{x: 1, y: 1}`) is no faster than steering straight. A shorter vector keeps its length (a
 * half-pushed joystick moves at half speed).
 */
export function normalizeDirection(dir: Vec): Vec {
  const length = Math.hypot(dir.x, dir.y);
  if (length <= 1) return { x: dir.x, y: dir.y };
  return { x: dir.x / length, y: dir.y / length };
}

/**
 * Player `id` steers towards `dir` (normalised) from the next step on, and counts as active
 * now. The same world when there is no such player.
 */
export function steer(world: World, id: string, dir: Vec): World {
  if (!world.players.some((p) => p.id === id)) return world;
  const d = normalizeDirection(dir);
  return { ...world, players: world.players.map((p) => (p.id === id ? { ...p, dir: d, activeTick: world.tick } : p)) };
}

/**
 * Advances the world by `dt` seconds: every player moves along its direction and stops at the
 * walls, then every item a player touches scores 1 point for that player (the earliest joined,
 * if several touch it) and reappears somewhere else.
 */
export function step(world: World, dt: number): World {
  const { speed, playerRadius: r, itemRadius, width, height } = world.rules;
  const players = world.players.map((p) => ({
    ...p,
    x: clamp(p.x + p.dir.x * speed * dt, r, width - r),
    y: clamp(p.y + p.dir.y * speed * dt, r, height - r),
  }));
  let next: World = { ...world, tick: world.tick + 1, players };
  const reach = r + itemRadius;
  for (const item of world.items) {
    const winner = next.players.find((p) => Math.hypot(p.x - item.x, p.y - item.y) <= reach);
    if (!winner) continue;
    next = {
      ...next,
      players: next.players.map((p) => (p === winner ? { ...p, score: p.score + 1 } : p)),
      items: next.items.filter((i) => i.id !== item.id),
    };
    next = spawnItem(next);
  }
  return next;
}

/** The ids of the players with no join or input for more than `maxIdleTicks` ticks. */
export function idlePlayers(world: World, maxIdleTicks: number): string[] {
  return world.players.filter((p) => world.tick - p.activeTick > maxIdleTicks).map((p) => p.id);
}

/** The world as the pages see it (see {@link Snapshot}). */
export function toSnapshot(world: World): Snapshot {
  const round = (v: number): number => Math.round(v * 10) / 10;
  const ranked = [...world.players].sort((a, b) => b.score - a.score); // stable: join order breaks ties
  return {
    t: world.tick,
    arena: { width: world.rules.width, height: world.rules.height },
    players: world.players.map((p) => ({ id: p.id, name: p.name, color: p.color, x: round(p.x), y: round(p.y) })),
    items: world.items.map((i) => ({ id: i.id, x: round(i.x), y: round(i.y) })),
    scores: ranked.map((p) => [p.id, p.score] as const),
  };
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v));
}

function leastUsedColor(players: readonly Player[]): string {
  let best: string = COLORS[0];
  let bestCount = Infinity;
  for (const color of COLORS) {
    const count = players.filter((p) => p.color === color).length;
    if (count < bestCount) [best, bestCount] = [color, count];
  }
  return best;
}

/** How many random places to try for a new item before taking the last one anyway. */
const SPAWN_TRIES = 8;

/**
 * Adds one item at a random place, preferring one clear of every player and item: an item that
 * appears under a player would be collected before anyone saw it.
 */
function spawnItem(world: World): World {
  const { itemRadius: r, playerRadius, width, height } = world.rules;
  const clearance = 3 * (playerRadius + r);
  let seed = world.seed;
  let x = 0;
  let y = 0;
  for (let i = 0; i < SPAWN_TRIES; i++) {
    let fx: number;
    let fy: number;
    [fx, seed] = nextRandom(seed);
    [fy, seed] = nextRandom(seed);
    x = r + fx * (width - 2 * r);
    y = r + fy * (height - 2 * r);
    const crowded = [...world.players, ...world.items].some((o) => Math.hypot(o.x - x, o.y - y) < clearance);
    if (!crowded) break;
  }
  return { ...world, items: [...world.items, { id: world.nextId, x, y }], seed, nextId: world.nextId + 1 };
}
