/**
 * The game's server side (src/demos/game.ts) driven through its RPC handler, as canal calls it:
 * joins, inputs and leaves, every bad input answered 107 with a sentence, the limits (106), the
 * snapshots it publishes to game:<room> each tick, and a loop that runs only while someone plays.
 * The clock is a scheduler the test turns by hand; the publisher records what is published.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGame, type Game, type GameOptions, type GamePublisher, type JoinResult, type Scheduler } from '../../../src/demos/game.js';
import type { Snapshot } from '../../../src/demos/game-sim.js';
import type { RpcContext } from '../../../src/handlers.js';
import { ReplyError } from '../../../src/protocol/errors.js';

/** A loop the test runs one tick at a time, counting starts and stops. */
class ManualClock {
  started = 0;
  stopped = 0;
  everyMs = 0;
  #tick: (() => void) | undefined;

  readonly scheduler: Scheduler = (tick, everyMs) => {
    this.started++;
    this.everyMs = everyMs;
    this.#tick = tick;
    return () => {
      this.stopped++;
      this.#tick = undefined;
    };
  };

  get running(): boolean {
    return this.#tick !== undefined;
  }

  /** Runs `n` ticks (fewer if the loop stops on the way). */
  run(n = 1): void {
    for (let i = 0; i < n && this.#tick; i++) this.#tick();
  }
}

/** Records every publish, synchronously. */
class Recorder implements GamePublisher {
  readonly published: Array<{ channel: string; data: Snapshot }> = [];
  fail = false;

  publish(channel: string, data: unknown): Promise<{ offset: number; epoch: string }> {
    if (this.fail) return Promise.reject(new Error('engine down'));
    this.published.push({ channel, data: data as Snapshot });
    return Promise.resolve({ offset: this.published.length, epoch: 'e' });
  }

  /** The last snapshot published to `channel`. */
  last(channel: string): Snapshot {
    const found = this.published.filter((p) => p.channel === channel).at(-1);
    assert.ok(found, `nothing published to ${channel}`);
    return found.data;
  }
}

interface Setup {
  game: Game;
  clock: ManualClock;
  canal: Recorder;
  /** Calls game.onRpc as connection `client` would. */
  rpc(client: string, method: string, data?: unknown): Promise<unknown>;
  join(client: string, room?: string, name?: string): Promise<JoinResult>;
}

function setup(options: GameOptions = {}): Setup {
  const clock = new ManualClock();
  const canal = new Recorder();
  const game = createGame({ seed: 1, scheduler: clock.scheduler, ...options });
  game.start(canal);
  const rpc = (client: string, method: string, data?: unknown): Promise<unknown> => {
    const ctx: RpcContext = data === undefined ? { client, user: '', method } : { client, user: '', method, data };
    return game.onRpc(ctx);
  };
  return {
    game,
    clock,
    canal,
    rpc,
    join: async (client, room = 'lobby', name = client) => (await rpc(client, 'game.join', { room, name })) as JoinResult,
  };
}

/** Asserts that `promise` rejects with ReplyError `code` and a message matching `message`. */
async function rejectsWith(promise: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ReplyError, `a ReplyError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

function playerIn(snapshot: Snapshot | undefined, id: string): { x: number; y: number; name: string } | undefined {
  return snapshot?.players.find((p) => p.id === id);
}

describe('createGame', () => {
  it('throws a RangeError naming the option for an option out of range', () => {
    assert.throws(() => createGame({ tickMs: 0 }), /tickMs must be a whole number from 5 to 1000, got 0/);
    assert.throws(() => createGame({ maxPlayersPerRoom: 1.5 }), /maxPlayersPerRoom must be a whole number/);
    assert.throws(() => createGame({ rules: { speed: -1 } }), /rules.speed must be a positive number, got -1/);
    assert.throws(() => createGame({ rules: { playerRadius: 400 } }), /playerRadius must leave room/);
  });
});

describe('game.join', () => {
  it('answers the player id, the channel, the tick and the arena, and starts the 20 ticks/s loop', async () => {
    const { join, clock, game } = setup();
    assert.equal(clock.running, false, 'no timer before anyone plays');
    const joined = await join('c1', 'lobby', '  Ana   Lima ');
    assert.equal(joined.player, joined.snapshot.players[0]!.id);
    assert.equal(joined.room, 'lobby');
    assert.equal(joined.channel, 'game:lobby');
    assert.equal(joined.tickMs, 50);
    assert.deepEqual([joined.rules.width, joined.rules.height], [800, 500]);
    assert.equal(joined.snapshot.players[0]!.name, 'Ana Lima', 'the name is trimmed, spaces collapsed');
    assert.equal(clock.started, 1);
    assert.equal(clock.everyMs, 50);
    assert.deepEqual(game.snapshot('lobby'), joined.snapshot);
  });

  it('publishes a snapshot to game:<room> every tick, with every player of the room', async () => {
    const { join, clock, canal } = setup();
    const a = await join('c1');
    const b = await join('c2');
    clock.run(3);
    assert.deepEqual(canal.published.map((p) => [p.channel, p.data.t]), [['game:lobby', 1], ['game:lobby', 2], ['game:lobby', 3]]);
    assert.deepEqual(canal.last('game:lobby').players.map((p) => p.id), [a.player, b.player]);
    assert.equal(clock.started, 1, 'one loop for all rooms and players');
  });

  it('answers the same player when a connection joins the same room again', async () => {
    const { join } = setup();
    const first = await join('c1');
    const again = await join('c1');
    assert.equal(again.player, first.player);
    assert.equal(again.snapshot.players.length, 1);
  });

  it('moves a connection that joins another room out of the first one (one player per connection)', async () => {
    const { join, game } = setup();
    await join('c1', 'one');
    await join('c1', 'two');
    assert.equal(game.snapshot('one'), undefined, 'room one closed with its only player gone');
    assert.equal(game.snapshot('two')?.players.length, 1);
  });

  it('answers 106 when the room is full', async () => {
    const { join } = setup({ maxPlayersPerRoom: 2 });
    await join('c1');
    await join('c2');
    await rejectsWith(join('c3'), 106, /room lobby is full \(2 players\)/);
    await join('c3', 'other');
  });

  it('answers 106 when opening one more room than maxRooms', async () => {
    const { join } = setup({ maxRooms: 2 });
    await join('c1', 'a');
    await join('c2', 'b');
    await rejectsWith(join('c3', 'c'), 106, /2 rooms are in play/);
    await join('c3', 'a');
  });

  it('answers 108 before start() and after stop()', async () => {
    const game = createGame({ scheduler: new ManualClock().scheduler });
    await rejectsWith(game.onRpc({ client: 'c1', user: '', method: 'game.join', data: { room: 'lobby', name: 'x' } }), 108, /not running/);
    const { join, game: started, clock } = setup();
    await join('c1');
    started.stop();
    assert.equal(clock.running, false);
    assert.equal(started.snapshot('lobby'), undefined);
    await rejectsWith(join('c1'), 108, /not running/);
  });
});

describe('game.input', () => {
  it('steers the player: x grows tick after tick while it steers right, and stays once it stops', async () => {
    const { join, rpc, clock, canal } = setup();
    const { player, snapshot } = await join('c1');
    const x0 = playerIn(snapshot, player)!.x;
    assert.deepEqual(await rpc('c1', 'game.input', { room: 'lobby', dir: { x: 1, y: 0 } }), {});
    clock.run(5);
    const x5 = playerIn(canal.last('game:lobby'), player)!.x;
    assert.ok(Math.abs(x5 - Math.min(x0 + 5 * 11, 800 - 14)) < 0.11, `x0 ${x0} -> x5 ${x5} (220 units/s × 0.05 s = 11 per tick)`);
    await rpc('c1', 'game.input', { room: 'lobby', dir: { x: 0, y: 0 } });
    clock.run(5);
    assert.equal(playerIn(canal.last('game:lobby'), player)!.x, x5);
  });

  it('accepts the keys held instead of a vector, diagonals no faster than straight', async () => {
    const { join, rpc, clock, game } = setup({ rules: { width: 2000, height: 2000, items: 0 } });
    const { player, snapshot } = await join('c1');
    const start = playerIn(snapshot, player)!;
    await rpc('c1', 'game.input', { room: 'lobby', keys: ['up', 'left'] });
    clock.run(1);
    const p = playerIn(game.snapshot('lobby'), player)!;
    const moved = Math.hypot(p.x - start.x, p.y - start.y);
    assert.ok(Math.abs(moved - 11) < 0.2, `moved ${moved}, expected 11 (one tick at full speed)`);
    assert.ok(p.x < start.x && p.y < start.y);
  });

  it('answers 107 when the connection plays in no room or in another room', async () => {
    const { join, rpc } = setup();
    await rejectsWith(rpc('c1', 'game.input', { room: 'lobby', dir: { x: 1, y: 0 } }), 107, /not playing in room lobby: call game.join first/);
    await join('c1', 'lobby');
    await rejectsWith(rpc('c1', 'game.input', { room: 'other', dir: { x: 1, y: 0 } }), 107, /not playing in room other/);
  });

  it('answers 107 with what is expected for every malformed input', async () => {
    const { join, rpc } = setup();
    await join('c1');
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /data must be an object/],
      [[1, 0], /data must be an object/],
      ['right', /data must be an object/],
      [{ dir: { x: 1, y: 0 } }, /room must be 1-32 of a-z 0-9 -/],
      [{ room: 'Lobby', dir: { x: 1, y: 0 } }, /room must be/],
      [{ room: 'x'.repeat(33), dir: { x: 1, y: 0 } }, /room must be/],
      [{ room: 'lobby' }, /send either dir/],
      [{ room: 'lobby', dir: { x: 1, y: 0 }, keys: ['up'] }, /send either dir/],
      [{ room: 'lobby', dir: null }, /dir must be \{x, y\}/],
      [{ room: 'lobby', dir: { x: 1 } }, /dir must be/],
      [{ room: 'lobby', dir: { x: '1', y: 0 } }, /dir must be/],
      [{ room: 'lobby', dir: { x: 2, y: 0 } }, /numbers from -1 to 1/],
      [{ room: 'lobby', dir: { x: Number.NaN, y: 0 } }, /dir must be/],
      [{ room: 'lobby', keys: 'up' }, /keys must be a list/],
      [{ room: 'lobby', keys: ['up', 'up', 'up', 'up', 'up'] }, /at most 4/],
      [{ room: 'lobby', keys: ['jump'] }, /unknown key "jump"/],
      [{ room: 'lobby', keys: ['__proto__'] }, /unknown key "__proto__"/],
      [{ room: 'lobby', keys: [1] }, /unknown key 1/],
    ];
    for (const [data, message] of cases) {
      await rejectsWith(rpc('c1', 'game.input', data), 107, message);
    }
  });
});

describe('game.join validation', () => {
  it('answers 107 for a bad room or name', async () => {
    const { rpc } = setup();
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'ana' }, /room must be/],
      [{ room: 'a b', name: 'ana' }, /room must be/],
      [{ room: 'lobby' }, /name must be a string/],
      [{ room: 'lobby', name: 42 }, /name must be a string/],
      [{ room: 'lobby', name: '   ' }, /name must be 1-20 characters, got 0/],
      [{ room: 'lobby', name: 'x'.repeat(21) }, /got 21/],
      [{ room: 'lobby', name: 'ana\u0000' }, /control or invisible/],
      [{ room: 'lobby', name: 'a\u202Eb' }, /control or invisible/],
    ];
    for (const [data, message] of cases) await rejectsWith(rpc('c1', 'game.join', data), 107, message);
    // An emoji is one character, not two UTF-16 units.
    const joined = (await rpc('c1', 'game.join', { room: 'lobby', name: '🚀'.repeat(20) })) as JoinResult;
    assert.equal(joined.snapshot.players[0]!.name, '🚀'.repeat(20));
  });

  it('answers 104 naming the game methods for an unknown game method', async () => {
    const { rpc } = setup();
    await rejectsWith(rpc('c1', 'game.jump', {}), 104, /game.join, game.input, game.leave/);
  });
});

describe('leaving', () => {
  it('removes the player on game.leave, and answers left: false when it was not playing there', async () => {
    const { join, rpc, game } = setup();
    await join('c1');
    const b = await join('c2');
    assert.deepEqual(await rpc('c1', 'game.leave', { room: 'lobby' }), { left: true });
    assert.deepEqual(await rpc('c1', 'game.leave', { room: 'lobby' }), { left: false });
    assert.deepEqual(game.snapshot('lobby')?.players.map((p) => p.id), [b.player]);
    await rejectsWith(rpc('c1', 'game.leave', {}), 107, /room must be/);
  });

  it('removes the player of a connection that closed, and only that one', async () => {
    const { join, game, clock, canal } = setup();
    const a = await join('c1');
    const b = await join('c2');
    game.onDisconnect({ client: 'c1', user: '', code: 1001 });
    game.onDisconnect({ client: 'nobody', user: '', code: 1001 });
    clock.run(1);
    assert.deepEqual(canal.last('game:lobby').players.map((p) => p.id), [b.player]);
    assert.equal(playerIn(canal.last('game:lobby'), a.player), undefined);
  });

  it('closes the room after its last player, publishing one last empty snapshot, and stops the loop', async () => {
    const { join, game, clock, canal } = setup();
    await join('c1', 'a');
    await join('c2', 'b');
    clock.run(1);
    game.onDisconnect({ client: 'c1', user: '', code: 1000 });
    assert.deepEqual(canal.last('game:a').players, [], 'watchers of room a see it empty');
    assert.equal(game.snapshot('a'), undefined);
    assert.equal(clock.running, true, 'room b still plays');
    game.onDisconnect({ client: 'c2', user: '', code: 1000 });
    assert.equal(clock.running, false, 'no timer while no room has players');
    assert.equal(clock.stopped, 1);
    const count = canal.published.length;
    await join('c3', 'a');
    assert.equal(clock.started, 2, 'the loop starts again with the next player');
    clock.run(1);
    assert.equal(canal.published.length, count + 1);
  });

  it('removes a player after idleTimeoutMs without input, keeping one that steers', async () => {
    const { join, rpc, clock, canal } = setup({ idleTimeoutMs: 1000 }); // 20 ticks
    const a = await join('c1');
    const b = await join('c2');
    for (let i = 0; i < 30; i++) {
      if (i % 10 === 0) await rpc('c2', 'game.input', { room: 'lobby', keys: i % 20 === 0 ? ['left'] : ['right'] });
      clock.run(1);
    }
    assert.deepEqual(canal.last('game:lobby').players.map((p) => p.id), [b.player]);
    await rejectsWith(rpc('c1', 'game.input', { room: 'lobby', keys: [] }), 107, /call game.join first/);
    assert.notEqual((await join('c1')).player, a.player, 'joining again makes a new player');
  });
});

describe('publishing', () => {
  it('keeps ticking and reports to onError when a publish fails', async () => {
    const errors: unknown[] = [];
    const { join, clock, canal, game } = setup({ onError: (err) => errors.push(err) });
    await join('c1');
    canal.fail = true;
    clock.run(2);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(errors.length, 2);
    assert.equal(game.snapshot('lobby')?.t, 2);
    canal.fail = false;
    clock.run(1);
    assert.equal(canal.last('game:lobby').t, 3);
  });
});
