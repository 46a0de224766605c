// The game's data as the server sends it (src/demos/game.ts and game-sim.ts), shared by the
// page's modules. Types only.

/**
 * One player in a snapshot.
 * @typedef {{ id: string, name: string, color: string, x: number, y: number }} SnapshotPlayer
 */
/**
 * One tick of the game, exactly as the server publishes it to game:<room> (`Snapshot`).
 * @typedef {{
 *   t: number,
 *   arena: { width: number, height: number },
 *   players: SnapshotPlayer[],
 *   items: Array<{ id: number, x: number, y: number }>,
 *   scores: Array<[string, number]>,
 * }} Snapshot
 */
/**
 * What game.join answers.
 * @typedef {{ player: string, room: string, snapshot: Snapshot, rules: { playerRadius: number, itemRadius: number } }} JoinResult
 */
/**
 * A snapshot and when it arrived (performance.now()).
 * @typedef {{ snapshot: Snapshot, at: number }} Frame
 */

export {};
