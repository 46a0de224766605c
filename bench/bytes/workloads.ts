/**
 * What the bytes benchmark publishes: the game demo's snapshots (its own simulation, four
 * players steering, 20 ticks a second) and a scoreboard match (the score demo's latest-value
 * updates, with the minute ticking and the odd goal). Deterministic: the same run publishes the
 * same bytes, so runs compare.
 */
import { addPlayer, createWorld, nextRandom, steer, step, toSnapshot, type World } from '../../src/demos/game-sim.js';

export interface Workload {
  readonly name: string;
  /** The channel under the benchmark's namespace. */
  readonly channel: string;
  /** Each publication's data as JSON text, in publish order. */
  readonly messages: readonly string[];
}

/** `count` consecutive snapshots of a four-player game whose players change direction now and then. */
export function gameSnapshots(count: number): Workload {
  let world: World = createWorld(42);
  const ids: string[] = [];
  for (const name of ['ann', 'bob', 'cyd', 'dee']) {
    const joined = addPlayer(world, name);
    world = joined.world;
    ids.push(joined.player.id);
  }
  let seed = 7;
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 10 === 0) {
      for (const id of ids) {
        let a: number;
        [a, seed] = nextRandom(seed);
        world = steer(world, id, { x: Math.cos(a * 2 * Math.PI), y: Math.sin(a * 2 * Math.PI) });
      }
    }
    world = step(world, 0.05);
    messages.push(JSON.stringify(toSnapshot(world)));
  }
  return { name: 'game', channel: 'bytes:game', messages };
}

/** `count` updates of one match as the scoreboard publishes them: the full state each time. */
export function scoreboard(count: number): Workload {
  let seed = 11;
  let home = 0;
  let away = 0;
  const events: Array<{ minute: number; team: 'home' | 'away'; player: string }> = [];
  const messages: string[] = [];
  for (let i = 0; i < count; i++) {
    const minute = Math.min(90, Math.floor((i * 90) / count));
    let r: number;
    [r, seed] = nextRandom(seed);
    if (r < 0.08) {
      const team = r < 0.04 ? 'home' : 'away';
      if (team === 'home') home++;
      else away++;
      events.push({ minute, team, player: `Player ${1 + Math.floor(r * 1000) % 11}` });
    }
    messages.push(JSON.stringify({
      match: 'final', home: { name: 'Rovers', score: home }, away: { name: 'United', score: away }, minute, status: minute >= 90 ? 'full time' : 'live',
      events: events.slice(-5),
    }));
  }
  return { name: 'scoreboard', channel: 'bytes:scores', messages };
}
