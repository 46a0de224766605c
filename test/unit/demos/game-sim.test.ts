/**
 * The arena game's rules (src/demos/game-sim.ts): pure steps from one world to the next —
 * movement at a fixed speed, clamped to the arena and no faster diagonally; items that score
 * and reappear; joins, leaves and idleness; the published snapshot; and a seeded generator that
 * makes every game replayable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addPlayer, COLORS, createWorld, DEFAULT_RULES, idlePlayers, nextRandom, normalizeDirection, removePlayer, steer, step, toSnapshot,
  type Item, type Player, type Rules, type World,
} from '../../../src/demos/game-sim.js';

const { width: W, height: H, speed: SPEED, playerRadius: R, itemRadius: IR } = DEFAULT_RULES;
const DT = 0.05; // one tick at 20 ticks/s

/** Rules with no items, so that movement tests pick nothing up by chance. */
const EMPTY: Rules = { ...DEFAULT_RULES, items: 0 };

/** A world with the given players (placed by hand) and items. */
function worldWith(players: Array<Partial<Player> & Pick<Player, 'x' | 'y'>>, items: Array<Pick<Item, 'x' | 'y'>> = [], rules: Rules = EMPTY): World {
  let world = createWorld(42, rules);
  for (const [i, p] of players.entries()) world = addPlayer(world, p.name ?? `player ${i + 1}`).world;
  return {
    ...world,
    players: world.players.map((p, i) => ({ ...p, ...players[i] })),
    items: items.map((it, i) => ({ id: 1000 + i, ...it })),
  };
}

function run(world: World, ticks: number): World {
  for (let i = 0; i < ticks; i++) world = step(world, DT);
  return world;
}

function only(world: World): Player {
  assert.equal(world.players.length, 1);
  return world.players[0]!;
}

/** Freezes `value` and everything it holds, so that a mutation throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('nextRandom', () => {
  it('returns the same sequence for the same seed, in [0, 1)', () => {
    const draw = (seed: number): number[] => {
      const out: number[] = [];
      for (let i = 0; i < 1000; i++) {
        let v: number;
        [v, seed] = nextRandom(seed);
        out.push(v);
      }
      return out;
    };
    const a = draw(7);
    assert.deepEqual(draw(7), a);
    assert.notDeepEqual(draw(8), a);
    assert.ok(a.every((v) => v >= 0 && v < 1));
    assert.ok(new Set(a).size > 990, 'values do not repeat in a short run');
  });
});

describe('createWorld', () => {
  it('places rules.items items inside the arena, at the same places for the same seed', () => {
    const world = createWorld(1);
    assert.equal(world.items.length, DEFAULT_RULES.items);
    for (const item of world.items) {
      assert.ok(item.x >= IR && item.x <= W - IR && item.y >= IR && item.y <= H - IR, `item inside: ${JSON.stringify(item)}`);
    }
    assert.deepEqual(createWorld(1), world);
    assert.notDeepEqual(createWorld(2).items, world.items);
    assert.deepEqual(world.players, []);
    assert.equal(world.tick, 0);
  });
});

describe('addPlayer and removePlayer', () => {
  it('gives each new player a fresh id, a different colour and a place inside the arena, standing still', () => {
    let world = createWorld(3);
    const players: Player[] = [];
    for (const name of ['ana', 'bo', 'cy']) {
      const added = addPlayer(world, name);
      world = added.world;
      players.push(added.player);
    }
    assert.deepEqual(players.map((p) => p.id), ['p6', 'p7', 'p8'], 'ids continue after the 5 item ids');
    assert.deepEqual(players.map((p) => p.name), ['ana', 'bo', 'cy']);
    assert.equal(new Set(players.map((p) => p.color)).size, 3);
    for (const p of players) {
      assert.ok(p.x >= R && p.x <= W - R && p.y >= R && p.y <= H - R, `inside: ${JSON.stringify(p)}`);
      assert.deepEqual(p.dir, { x: 0, y: 0 });
      assert.equal(p.score, 0);
    }
    assert.deepEqual(world.players, players);
  });

  it('reuses the least used colour once every colour is taken', () => {
    let world = createWorld(3, EMPTY);
    for (let i = 0; i < COLORS.length + 1; i++) world = addPlayer(world, `n${i}`).world;
    assert.equal(world.players[COLORS.length]!.color, COLORS[0]);
    world = removePlayer(world, world.players[2]!.id);
    assert.equal(addPlayer(world, 'late').player.color, COLORS[2]);
  });

  it('removes a player by id and never reuses its id', () => {
    const { world } = addPlayer(createWorld(5, EMPTY), 'ana');
    const gone = removePlayer(world, 'p1');
    assert.deepEqual(gone.players, []);
    assert.equal(addPlayer(gone, 'bo').player.id, 'p2');
  });

  it('returns the same world when removing or steering a player that does not exist', () => {
    const world = createWorld(5);
    assert.equal(removePlayer(world, 'p99'), world);
    assert.equal(steer(world, 'p99', { x: 1, y: 0 }), world);
  });
});

describe('step: movement', () => {
  it('moves a player steering right by speed × dt per step', () => {
    const world = steer(worldWith([{ x: 100, y: 100 }]), 'p1', { x: 1, y: 0 });
    const after = only(run(world, 10));
    assert.ok(Math.abs(after.x - (100 + SPEED * DT * 10)) < 1e-9, `x = ${after.x}`);
    assert.equal(after.y, 100);
  });

  it('keeps a player standing still when it has not steered', () => {
    const p = only(run(worldWith([{ x: 100, y: 100 }]), 20));
    assert.deepEqual([p.x, p.y], [100, 100]);
  });

  it('stops a player at each wall, its whole dot inside the arena', () => {
    const corners = [
      { dir: { x: 1, y: 0 }, x: W - R, y: 200 },
      { dir: { x: -1, y: 0 }, x: R, y: 200 },
      { dir: { x: 0, y: -1 }, x: 300, y: R },
      { dir: { x: 0, y: 1 }, x: 300, y: H - R },
      { dir: { x: 1, y: 1 }, x: W - R, y: H - R },
    ];
    for (const { dir, x, y } of corners) {
      const p = only(run(steer(worldWith([{ x: 300, y: 200 }]), 'p1', dir), 200)); // 10 s: far more than the arena
      assert.deepEqual([p.x, p.y], [x, y], `steering ${JSON.stringify(dir)}`);
    }
  });

  it('moves no faster diagonally than straight: {x: 1, y: 1} is normalised to length 1', () => {
    const straight = only(run(steer(worldWith([{ x: 200, y: 200 }]), 'p1', { x: 1, y: 0 }), 20));
    const diagonal = only(run(steer(worldWith([{ x: 200, y: 200 }]), 'p1', { x: 1, y: 1 }), 20));
    const distance = (p: Player): number => Math.hypot(p.x - 200, p.y - 200);
    assert.ok(Math.abs(distance(diagonal) - distance(straight)) < 1e-9, `${distance(diagonal)} vs ${distance(straight)}`);
    assert.ok(Math.abs(diagonal.x - diagonal.y) < 1e-9);
  });

  it('normalises directions longer than 1 and keeps shorter ones', () => {
    const d = normalizeDirection({ x: -1, y: 1 });
    assert.ok(Math.abs(Math.hypot(d.x, d.y) - 1) < 1e-12);
    assert.ok(Math.abs(d.x + Math.SQRT1_2) < 1e-12 && Math.abs(d.y - Math.SQRT1_2) < 1e-12);
    assert.deepEqual(normalizeDirection({ x: 0.5, y: 0 }), { x: 0.5, y: 0 });
    assert.deepEqual(normalizeDirection({ x: 0, y: 0 }), { x: 0, y: 0 });
  });

  it('counts ticks and leaves the world it was given unchanged', () => {
    const world = deepFreeze(steer(worldWith([{ x: 100, y: 100 }], [{ x: 110, y: 100 }]), 'p1', { x: 1, y: 0 }));
    const next = step(world, DT);
    assert.equal(next.tick, world.tick + 1);
    assert.equal(world.players[0]!.x, 100);
    assert.equal(world.players[0]!.score, 0);
  });
});

describe('step: items', () => {
  it('scores 1 for the player touching an item, which reappears elsewhere with a new id', () => {
    const world = worldWith([{ x: 100, y: 100 }], [{ x: 100 + R + IR - 1, y: 100 }, { x: 600, y: 400 }]);
    const next = step(world, DT);
    assert.equal(only(next).score, 1);
    assert.equal(next.items.length, 2, 'as many items as before');
    assert.deepEqual(next.items[0], world.items[1], 'the untouched item stays');
    const respawned = next.items[1]!;
    assert.ok(!world.items.some((i) => i.id === respawned.id), 'a new id');
    assert.ok(Math.hypot(respawned.x - 100, respawned.y - 100) > R + IR, `not under the player: ${JSON.stringify(respawned)}`);
    assert.ok(respawned.x >= IR && respawned.x <= W - IR && respawned.y >= IR && respawned.y <= H - IR);
  });

  it('does not score for an item just out of reach', () => {
    const world = worldWith([{ x: 100, y: 100 }], [{ x: 100 + R + IR + 0.5, y: 100 }]);
    const next = step(world, DT);
    assert.equal(only(next).score, 0);
    assert.deepEqual(next.items, world.items);
  });

  it('picks items up along the way when steering into them', () => {
    let world = steer(worldWith([{ x: 100, y: 100 }], [{ x: 200, y: 100 }]), 'p1', { x: 1, y: 0 });
    world = run(world, 10); // 110 units to the right
    assert.equal(only(world).score, 1);
  });

  it('gives an item two players touch to the one who joined first', () => {
    const world = worldWith([{ x: 100, y: 100 }, { x: 120, y: 100 }], [{ x: 110, y: 100 }]);
    const next = step(world, DT);
    assert.deepEqual(next.players.map((p) => p.score), [1, 0]);
  });

  it('gives the same respawn places for the same seed (a replayable game)', () => {
    const play = (): World => run(steer(worldWith([{ x: 30, y: 30 }], [], DEFAULT_RULES), 'p1', { x: 1, y: 0.6 }), 200);
    assert.deepEqual(play(), play());
  });
});

describe('idlePlayers', () => {
  it('lists the players with no input for more than the given number of ticks', () => {
    let world = worldWith([{ x: 100, y: 100 }, { x: 300, y: 300 }]);
    world = run(world, 10);
    world = steer(world, 'p2', { x: 0, y: 1 });
    world = run(world, 5);
    assert.deepEqual(idlePlayers(world, 10), ['p1']);
    assert.deepEqual(idlePlayers(world, 15), []);
    assert.deepEqual(idlePlayers(world, 4), ['p1', 'p2']);
  });
});

describe('toSnapshot', () => {
  it('holds the tick, arena, players (rounded to 0.1), items and scores best first, ties in join order', () => {
    let world = worldWith([{ x: 10.04, y: 20.06, score: 1 }, { x: 30, y: 40, score: 3 }, { x: 50, y: 60, score: 1 }], [{ x: 400.123, y: 300 }]);
    world = { ...world, tick: 7 };
    const [a, b, c] = world.players;
    assert.deepEqual(toSnapshot(world), {
      t: 7,
      arena: { width: W, height: H },
      players: [
        { id: 'p1', name: 'player 1', color: a!.color, x: 10, y: 20.1 },
        { id: 'p2', name: 'player 2', color: b!.color, x: 30, y: 40 },
        { id: 'p3', name: 'player 3', color: c!.color, x: 50, y: 60 },
      ],
      items: [{ id: 1000, x: 400.1, y: 300 }],
      scores: [['p2', 3], ['p1', 1], ['p3', 1]],
    });
  });
});
