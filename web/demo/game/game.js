// The arena game's page. The server owns the game: this page only
//   1. sends what the player steers (game.input, an RPC) when it changes, never per frame
//      (input.js);
//   2. receives the world 20 times a second on the channel game:<room> (a snapshot per tick);
//   3. draws it on a canvas at the screen's frame rate, sliding each dot between the last two
//      snapshots (draw.js), and lists the scores (scoreboard.js).
// The centrifuge client comes from canal itself (/vendor/centrifuge/centrifuge.js, loaded by
// index.html before this module) and is the global `Centrifuge`.
import { protocolUrl, showConnection } from '../shared/connection.js';
import { byId, element } from '../shared/dom.js';
import { aspectRatio, startRenderer } from './draw.js';
import { listenToSteering } from './input.js';
import { renderScoreboard } from './scoreboard.js';

/** @typedef {import('centrifuge').Subscription} Subscription */
/** @typedef {import('./types.js').Snapshot} Snapshot */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./draw.js').Scene} Scene */

/** The same rule the server applies to room names. */
const ROOM_PATTERN = /^[a-z0-9-]{1,32}$/;
const NAME_KEY = 'canal-game-name';

const gameSection = byId('game', HTMLElement);
const form = byId('join-form', HTMLFormElement);
const nameInput = byId('name', HTMLInputElement);
const roomInput = byId('room', HTMLInputElement);
const joinButton = byId('join', HTMLButtonElement);
const leaveButton = byId('leave', HTMLButtonElement);
const errorLine = byId('error', HTMLElement);
const canvas = byId('arena', HTMLCanvasElement);
const statusLine = byId('status', HTMLElement);
const scoreboard = byId('scoreboard', HTMLOListElement);
const events = byId('events', HTMLOListElement);

// ---------------------------------------------------------------------------------------------
// State

/** The room this page watches (and plays in, once joined). */
let room = new URLSearchParams(location.search).get('room') ?? 'lobby';
if (!ROOM_PATTERN.test(room)) room = 'lobby';
/** What the canvas shows; `scene.me` is this page's player id while it plays, else ''. */
/** @type {Scene} */
const scene = { previous: undefined, current: undefined, me: '', subscribed: false, radius: { player: 14, item: 9 } };
/** Every player id this page has played as: their joins and leaves are told as "You ...". */
/** @type {Set<string>} */
const myIds = new Set();
/** The tick we joined at: snapshots up to it may predate our player (they were on their way). */
let joinedTick = 0;
/** Join again with this name after a reconnect ('' when not playing). */
let rejoinAs = '';
/** @type {Subscription | undefined} */
let sub;
/** Player id -> name, of the last snapshot: a new id is a join, a missing one a leave. */
/** @type {Map<string, string> | undefined} */
let known;
/** How many connections watch this room (players included), from presence and join/leave. */
let watching = 0;

const client = new Centrifuge(protocolUrl());
const renderer = startRenderer(canvas, scene);
const steering = listenToSteering(byId('pad', HTMLElement), () => scene.me !== '', (dir) => {
  client.rpc('game.input', { room, dir }).catch((err) => {
    // 107 "not playing": the server removed us (idle too long); the next snapshot says so too.
    console.warn('game.input failed:', describe(err));
  });
});

// ---------------------------------------------------------------------------------------------
// Connection

showConnection(client, byId('state', HTMLElement));

client.on('state', () => {
  joinButton.disabled = client.state !== Centrifuge.State.Connected;
});
client.on('connecting', () => {
  // The server removed our player when the connection dropped: join again once it is back.
  if (scene.me) {
    rejoinAs = nameInput.value;
    setPlaying('');
  }
});
client.on('connected', () => {
  if (rejoinAs) void join(rejoinAs);
});
client.on('disconnected', () => setPlaying(''));

/**
 * Subscribes to `game:<name>` (leaving the room watched before): the page shows a room before
 * joining it.
 * @param {string} name
 */
function watch(name) {
  if (sub) client.removeSubscription(sub);
  room = name;
  roomInput.value = name;
  gameSection.dataset.room = name;
  scene.previous = scene.current = known = undefined;
  watching = 0;
  setSubscribed(false);
  renderScoreboard(scoreboard, undefined, scene.me);
  // Snapshots differ little from one tick to the next: dev mode's game: namespace allows fossil
  // deltas, so after the first one each arrives as a delta against the previous (docs/protocol.md).
  const s = client.newSubscription(`game:${name}`, { joinLeave: true, delta: 'fossil' });
  sub = s;
  s.on('subscribed', () => {
    setSubscribed(true);
    // Presence says who is here now; join and leave events keep the count from then on.
    s.presenceStats().then((stats) => {
      watching = stats.numClients;
      renderStatus();
    }, () => {});
  });
  s.on('join', () => {
    watching++;
    renderStatus();
  });
  s.on('leave', () => {
    watching = Math.max(0, watching - 1);
    renderStatus();
  });
  s.on('unsubscribed', () => setSubscribed(false));
  s.on('subscribing', () => setSubscribed(false));
  s.on('publication', (p) => onSnapshot(/** @type {Snapshot} */ (p.data)));
  s.subscribe();
}

/** @param {boolean} subscribed */
function setSubscribed(subscribed) {
  scene.subscribed = subscribed;
  renderer.changed();
}

// ---------------------------------------------------------------------------------------------
// Joining and leaving (RPC)

/** @param {string} name */
async function join(name) {
  showError('');
  try {
    const reply = await client.rpc('game.join', { room, name });
    const result = /** @type {JoinResult} */ (reply.data);
    scene.radius = { player: result.rules.playerRadius, item: result.rules.itemRadius };
    myIds.add(result.player);
    joinedTick = result.snapshot.t;
    if (!scene.current) acceptSnapshot(result.snapshot);
    setPlaying(result.player);
    rejoinAs = '';
    addEvent(`You joined room ${room} as ${name}.`);
    localStorage.setItem(NAME_KEY, name);
    canvas.focus();
  } catch (err) {
    showError(`Could not join: ${describe(err)}`);
  }
}

async function leave() {
  const wasIn = room;
  setPlaying('');
  rejoinAs = '';
  joinButton.focus(); // Leave is now hidden: keep the keyboard focus on something visible
  try {
    await client.rpc('game.leave', { room: wasIn });
    addEvent(`You left room ${wasIn}.`);
  } catch (err) {
    showError(`Could not leave: ${describe(err)}`);
  }
}

/**
 * Shows the page as playing as `player`, or as watching when `player` is ''.
 * @param {string} player
 */
function setPlaying(player) {
  scene.me = player;
  renderer.changed(); // our dot's ring
  gameSection.dataset.player = player;
  leaveButton.hidden = !player;
  joinButton.hidden = Boolean(player);
  nameInput.disabled = roomInput.disabled = Boolean(player);
  steering.reset();
  renderScoreboard(scoreboard, scene.current?.snapshot, scene.me);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = nameInput.value.trim();
  const wanted = roomInput.value.trim();
  if (!name) return showError('Type a name first.');
  if (!ROOM_PATTERN.test(wanted)) return showError('A room name is 1-32 of a-z, 0-9 and -.');
  if (wanted !== room) {
    watch(wanted);
    history.replaceState(null, '', `?room=${wanted}`); // the address to share with a friend
  }
  void join(name);
});
leaveButton.addEventListener('click', () => void leave());

// ---------------------------------------------------------------------------------------------
// Snapshots: what the server says the world is.

/** @param {Snapshot} snapshot */
function onSnapshot(snapshot) {
  const names = new Map(snapshot.players.map((p) => [p.id, p.name]));
  if (known) {
    for (const [id, name] of names) if (!known.has(id) && !myIds.has(id)) addEvent(`${name} joined.`);
    for (const [id, name] of known) if (!names.has(id) && !myIds.has(id)) addEvent(`${name} left.`);
  }
  known = names;
  if (scene.me && !names.has(scene.me) && snapshot.t > joinedTick) {
    // Our player is gone though we did not leave: the server removed it (no input for a while).
    setPlaying('');
    addEvent('You were removed from the game after a while without moving. Press Play to join again.');
  }
  acceptSnapshot(snapshot);
}

/** @param {Snapshot} snapshot */
function acceptSnapshot(snapshot) {
  scene.previous = scene.current;
  scene.current = { snapshot, at: performance.now() };
  renderer.changed();
  gameSection.dataset.tick = String(snapshot.t);
  canvas.style.aspectRatio = aspectRatio(snapshot.arena);
  renderScoreboard(scoreboard, snapshot, scene.me);
  renderStatus();
}

function renderStatus() {
  const players = scene.current?.snapshot.players.length ?? 0;
  const text = `Room ${room} · ${players} ${players === 1 ? 'player' : 'players'} · ${watching} connected`;
  if (statusLine.textContent !== text) statusLine.textContent = text;
  const label = `Game arena of room ${room}, ${players} ${players === 1 ? 'player' : 'players'}; the scoreboard lists them.`;
  if (canvas.getAttribute('aria-label') !== label) canvas.setAttribute('aria-label', label);
}

/** @param {string} text */
function addEvent(text) {
  events.prepend(element('li', '', text));
  while (events.children.length > 20) events.lastElementChild?.remove();
}

/** @param {string} text */
function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = !text;
}

/** @param {unknown} err */
function describe(err) {
  if (err && typeof err === 'object' && 'message' in err) {
    const { code, message } = /** @type {{ code?: number, message: string }} */ (err);
    return code === undefined ? message : `${message} (code ${code})`;
  }
  return String(err);
}

// ---------------------------------------------------------------------------------------------
// Start

nameInput.value = localStorage.getItem(NAME_KEY) ?? `Player ${Math.floor(100 + Math.random() * 900)}`;
joinButton.disabled = true;
setPlaying('');
watch(room);
client.connect();
