// The arena game's page. The server owns the game: this page only
//   1. sends what the player steers (game.input, an RPC) when it changes, never per frame;
//   2. receives the world 20 times a second on the channel game:<room> (a snapshot per tick);
//   3. draws it on a canvas at the screen's frame rate, sliding each dot between the last two
//      snapshots (interpolation), so that movement looks smooth between ticks.
// The centrifuge client comes from canal itself (/vendor/centrifuge/centrifuge.js, loaded by
// index.html before this module) and is the global `Centrifuge`.

/** @typedef {import('centrifuge').Centrifuge} Client */
/** @typedef {import('centrifuge').Subscription} Subscription */
/**
 * One tick of the game, exactly as the server publishes it (src/demos/game-sim.ts, `Snapshot`).
 * @typedef {{ id: string, name: string, color: string, x: number, y: number }} SnapshotPlayer
 * @typedef {{
 *   t: number,
 *   arena: { width: number, height: number },
 *   players: SnapshotPlayer[],
 *   items: Array<{ id: number, x: number, y: number }>,
 *   scores: Array<[string, number]>,
 * }} Snapshot
 */
/** @typedef {{ player: string, room: string, snapshot: Snapshot, rules: { playerRadius: number, itemRadius: number } }} JoinResult */
/** @typedef {'up' | 'down' | 'left' | 'right'} Key */

// This file is an ES module (index.html loads it with type="module"); `export {}` tells the
// type checker so too, so that its top-level names do not clash with other pages' scripts.
export {};

const { Centrifuge } = /** @type {{ Centrifuge: typeof import('centrifuge').Centrifuge }} */ (/** @type {unknown} */ (globalThis));

/** Milliseconds between two snapshots: the server runs 20 ticks per second. */
const TICK_MS = 50;
/** The same rule the server applies to room names. */
const ROOM_PATTERN = /^[a-z0-9-]{1,32}$/;
/** Until the server says otherwise (the first snapshot or the join reply). */
let radius = { player: 14, item: 9 };

/** Keyboard keys -> directions. `code` is the physical key, so WASD works on any layout. */
/** @type {Record<string, Key>} */
const KEY_CODES = {
  ArrowUp: 'up', KeyW: 'up',
  ArrowDown: 'down', KeyS: 'down',
  ArrowLeft: 'left', KeyA: 'left',
  ArrowRight: 'right', KeyD: 'right',
};
/** @type {Record<Key, { x: number, y: number }>} */
const VECTORS = { up: { x: 0, y: -1 }, down: { x: 0, y: 1 }, left: { x: -1, y: 0 }, right: { x: 1, y: 0 } };

/** @param {string} id */
function element(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

const gameSection = element('game');
const stateBadge = element('state');
const form = /** @type {HTMLFormElement} */ (element('join-form'));
const nameInput = /** @type {HTMLInputElement} */ (element('name'));
const roomInput = /** @type {HTMLInputElement} */ (element('room'));
const joinButton = /** @type {HTMLButtonElement} */ (element('join'));
const leaveButton = /** @type {HTMLButtonElement} */ (element('leave'));
const errorLine = element('error');
const canvas = /** @type {HTMLCanvasElement} */ (element('arena'));
const pad = element('pad');
const statusLine = element('status');
const scoreboard = /** @type {HTMLOListElement} */ (element('scoreboard'));
const events = /** @type {HTMLOListElement} */ (element('events'));
const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));

// ---------------------------------------------------------------------------------------------
// State

/** The room this page watches (and plays in, once joined). */
let room = new URLSearchParams(location.search).get('room') ?? 'lobby';
if (!ROOM_PATTERN.test(room)) room = 'lobby';
/** This page's player id while it plays, else ''. */
let me = '';
/** Every player id this page has played as: their joins and leaves are told as "You ...". */
/** @type {Set<string>} */
const myIds = new Set();
/** The tick we joined at: snapshots up to it may predate our player (they were on their way). */
let joinedTick = 0;
/** Join again with this name after a reconnect ('' when not playing). */
let rejoinAs = '';
/** @type {Subscription | undefined} */
let sub;
/** The last two snapshots and when they arrived: the frame drawn is between the two. */
/** @type {{ snapshot: Snapshot, at: number } | undefined} */
let previous;
/** @type {{ snapshot: Snapshot, at: number } | undefined} */
let current;
/** Player id -> name, of the last snapshot: a new id is a join, a missing one a leave. */
/** @type {Map<string, string> | undefined} */
let known;
/** How many connections watch this room (players included), from presence and join/leave. */
let watching = 0;
/** The directions held on the keyboard and on the on-screen pad. */
/** @type {Set<Key>} */
const keysHeld = new Set();
/** @type {Set<Key>} */
const padHeld = new Set();
/** The direction last sent to the server, as "x,y". */
let sentDirection = '0,0';
/** Whether the subscription is active (else the canvas says it is connecting). */
let subscribed = false;
/** Set when something on the canvas changed (a snapshot, our player, the theme): the next frame redraws. */
let stale = true;
/** When the last frame was drawn. */
let drawnAt = 0;

// ---------------------------------------------------------------------------------------------
// Connection

const client = new Centrifuge(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/connection/websocket`);

client.on('connecting', () => {
  showState('connecting');
  // The server removed our player when the connection dropped: join again once it is back.
  if (me) {
    rejoinAs = nameInput.value;
    setPlaying('');
  }
});
client.on('connected', () => {
  showState('connected');
  if (rejoinAs) void join(rejoinAs);
});
client.on('disconnected', () => {
  showState('disconnected');
  setPlaying('');
});

/** @param {string} state */
function showState(state) {
  stateBadge.textContent = state;
  stateBadge.dataset.state = state;
  joinButton.disabled = state !== 'connected';
}

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
  previous = current = known = undefined;
  watching = 0;
  subscribed = false;
  stale = true;
  renderScoreboard();
  const s = client.newSubscription(`game:${name}`, { joinLeave: true });
  sub = s;
  s.on('subscribed', () => {
    subscribed = true;
    stale = true;
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
  s.on('unsubscribed', () => {
    subscribed = false;
    stale = true;
  });
  s.on('subscribing', () => {
    subscribed = false;
    stale = true;
  });
  s.on('publication', (p) => onSnapshot(/** @type {Snapshot} */ (p.data)));
  s.subscribe();
}

// ---------------------------------------------------------------------------------------------
// Joining and leaving (RPC)

/** @param {string} name */
async function join(name) {
  showError('');
  try {
    const reply = await client.rpc('game.join', { room, name });
    const result = /** @type {JoinResult} */ (reply.data);
    radius = { player: result.rules.playerRadius, item: result.rules.itemRadius };
    myIds.add(result.player);
    joinedTick = result.snapshot.t;
    if (!current) acceptSnapshot(result.snapshot);
    setPlaying(result.player);
    rejoinAs = '';
    addEvent(`You joined room ${room} as ${name}.`);
    localStorage.setItem('canal-game-name', name);
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
  me = player;
  stale = true; // our dot's ring
  gameSection.dataset.player = player;
  leaveButton.hidden = !player;
  joinButton.hidden = Boolean(player);
  nameInput.disabled = roomInput.disabled = Boolean(player);
  keysHeld.clear();
  padHeld.clear();
  sentDirection = '0,0';
  renderScoreboard();
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
// Steering: send the direction when it changes (a key goes down or up), not every frame.

function sendDirection() {
  if (!me) return;
  let x = 0;
  let y = 0;
  for (const key of new Set([...keysHeld, ...padHeld])) {
    x += VECTORS[key].x;
    y += VECTORS[key].y;
  }
  // Left + right cancel out; up + right is sent as {x: 1, y: -1}, and the server normalises it.
  const direction = `${x},${y}`;
  if (direction === sentDirection) return;
  sentDirection = direction;
  client.rpc('game.input', { room, dir: { x, y } }).catch((err) => {
    // 107 "not playing": the server removed us (idle too long); the next snapshot says so too.
    console.warn('game.input failed:', describe(err));
  });
}

/** @param {EventTarget | null} target */
function isTyping(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

window.addEventListener('keydown', (e) => {
  const key = KEY_CODES[e.code];
  if (!key || !me || isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
  e.preventDefault(); // arrows would scroll the page
  keysHeld.add(key); // held keys repeat: the Set ignores the repeats, so nothing is re-sent
  sendDirection();
});
window.addEventListener('keyup', (e) => {
  const key = KEY_CODES[e.code];
  if (key && keysHeld.delete(key)) sendDirection();
});
// A key released in another window never sends keyup here: stop when the page loses focus.
window.addEventListener('blur', () => {
  keysHeld.clear();
  padHeld.clear();
  sendDirection();
});

// The on-screen pad, for touch screens: a button steers while it is pressed.
for (const button of pad.querySelectorAll('button')) {
  const key = /** @type {Key} */ (button.dataset.key);
  /** @param {boolean} down */
  const press = (down) => {
    if (down) padHeld.add(key);
    else padHeld.delete(key);
    button.setAttribute('aria-pressed', String(down));
    sendDirection();
  };
  button.addEventListener('pointerdown', (e) => {
    button.setPointerCapture(e.pointerId); // keep steering if the finger slides off the button
    press(true);
  });
  button.addEventListener('pointerup', () => press(false));
  button.addEventListener('pointercancel', () => press(false));
  button.addEventListener('contextmenu', (e) => e.preventDefault()); // a long press is not a right click
}

// ---------------------------------------------------------------------------------------------
// Snapshots: what the server says the world is.

/** @param {Snapshot} snapshot */
function onSnapshot(snapshot) {
  const first = known === undefined;
  const names = new Map(snapshot.players.map((p) => [p.id, p.name]));
  if (!first && known) {
    for (const [id, name] of names) if (!known.has(id) && !myIds.has(id)) addEvent(`${name} joined.`);
    for (const [id, name] of known) if (!names.has(id) && !myIds.has(id)) addEvent(`${name} left.`);
  }
  known = names;
  if (me && !names.has(me) && snapshot.t > joinedTick) {
    // Our player is gone though we did not leave: the server removed it (no input for a while).
    setPlaying('');
    addEvent('You were removed from the game after a while without moving. Press Play to join again.');
  }
  acceptSnapshot(snapshot);
}

/** @param {Snapshot} snapshot */
function acceptSnapshot(snapshot) {
  previous = current;
  current = { snapshot, at: performance.now() };
  stale = true;
  gameSection.dataset.tick = String(snapshot.t);
  canvas.style.aspectRatio = `${snapshot.arena.width} / ${snapshot.arena.height}`;
  renderScoreboard();
  renderStatus();
}

/**
 * The live scoreboard, best first. Each entry carries the player's server position as
 * data-x/data-y (what the tests read instead of canvas pixels). Entries are updated in place:
 * rebuilding the list 20 times a second would lose a screen reader's place in it.
 */
function renderScoreboard() {
  const snapshot = current?.snapshot;
  /** @type {Map<string, HTMLLIElement>} */
  const existing = new Map();
  for (const li of scoreboard.querySelectorAll('li')) existing.set(li.dataset.id ?? '', li);
  if (!snapshot || snapshot.players.length === 0) {
    scoreboard.replaceChildren(emptyScoreboardLine());
    return;
  }
  const players = new Map(snapshot.players.map((p) => [p.id, p]));
  const ordered = [];
  for (const [id, score] of snapshot.scores) {
    const p = players.get(id);
    if (!p) continue;
    const li = existing.get(id) ?? newScoreLine(p);
    li.dataset.x = String(p.x);
    li.dataset.y = String(p.y);
    setText(li, '.score', String(score));
    li.dataset.score = String(score);
    li.dataset.me = String(id === me);
    setText(li, '.you', id === me ? '(you)' : '');
    ordered.push(li);
  }
  // Only touch the list when its order changed.
  const same = ordered.length === scoreboard.children.length && ordered.every((li, i) => scoreboard.children[i] === li);
  if (!same) scoreboard.replaceChildren(...ordered);
}

function emptyScoreboardLine() {
  const li = document.createElement('li');
  li.className = 'empty';
  li.textContent = 'Nobody is playing in this room yet.';
  return li;
}

/** @param {SnapshotPlayer} p */
function newScoreLine(p) {
  const li = document.createElement('li');
  li.dataset.id = p.id;
  li.dataset.name = p.name;
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = p.color;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = p.name; // textContent: a name is shown as text, never parsed as HTML
  const you = document.createElement('span');
  you.className = 'you';
  const score = document.createElement('span');
  score.className = 'score';
  const unit = document.createElement('span');
  unit.className = 'visually-hidden';
  unit.textContent = ' points';
  li.append(swatch, name, you, score, unit);
  return li;
}

/** Sets the text of `root`'s `selector` child, only when it changed. */
function setText(/** @type {Element} */ root, /** @type {string} */ selector, /** @type {string} */ text) {
  const el = root.querySelector(selector);
  if (el && el.textContent !== text) el.textContent = text;
}

function renderStatus() {
  const players = current?.snapshot.players.length ?? 0;
  const text = `Room ${room} · ${players} ${players === 1 ? 'player' : 'players'} · ${watching} connected`;
  if (statusLine.textContent !== text) statusLine.textContent = text;
  const label = `Game arena of room ${room}, ${players} ${players === 1 ? 'player' : 'players'}; the scoreboard lists them.`;
  if (canvas.getAttribute('aria-label') !== label) canvas.setAttribute('aria-label', label);
}

/** @param {string} text */
function addEvent(text) {
  const li = document.createElement('li');
  li.textContent = text;
  events.prepend(li);
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
// Drawing, once per screen frame.

/** The page's colours (style.css), read again when the light/dark preference changes. */
let colors = readColors();
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  colors = readColors();
  stale = true;
});

function readColors() {
  const css = getComputedStyle(document.documentElement);
  /** @param {string} name @param {string} fallback */
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return { bg: v('--card', '#fff'), line: v('--line', '#ccc'), fg: v('--fg', '#000'), muted: v('--muted', '#555'), accent: v('--accent', '#0b5fff') };
}

/**
 * Keeps the canvas's pixel size equal to its size on screen (times the pixel ratio): sharp,
 * never stretched. Returns whether it changed (a resized canvas is blank until drawn again).
 */
function fitCanvas() {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (canvas.width === width && canvas.height === height) return false;
  canvas.width = width;
  canvas.height = height;
  return true;
}


/**
 * Where player `p` is drawn now: between its place in the previous snapshot and in the current
 * one, by how much of a tick has passed since the current one arrived. Drawing runs one tick
 * behind the server, and in exchange dots glide instead of jumping 20 times a second.
 * @param {SnapshotPlayer} p
 * @param {number} now
 */
function interpolated(p, now) {
  const before = previous?.snapshot.players.find((q) => q.id === p.id);
  if (!before || !current) return p;
  const alpha = Math.min(1, (now - current.at) / TICK_MS);
  return { ...p, x: before.x + (p.x - before.x) * alpha, y: before.y + (p.y - before.y) * alpha };
}

/** @param {number} now */
function draw(now) {
  requestAnimationFrame(draw);
  const resized = fitCanvas();
  // Draw only while something changes: a new snapshot and the glide towards it, a resize, a
  // theme switch. A page where nobody plays then costs no CPU.
  const gliding = current !== undefined && drawnAt - current.at < TICK_MS;
  if (!stale && !resized && !gliding) return;
  stale = false;
  drawnAt = now;
  const snapshot = current?.snapshot;
  const arena = snapshot?.arena ?? { width: 800, height: 500 };
  const scale = canvas.width / arena.width;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = colors.bg;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(scale, 0, 0, scale, 0, 0); // from here on, arena units

  // A faint grid, to see motion even when alone.
  ctx.strokeStyle = colors.line;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = 50; x < arena.width; x += 50) {
    ctx.moveTo(x, 0);
    ctx.lineTo(x, arena.height);
  }
  for (let y = 50; y < arena.height; y += 50) {
    ctx.moveTo(0, y);
    ctx.lineTo(arena.width, y);
  }
  ctx.stroke();

  // Text in screen pixels, not arena units: readable on a phone, not huge on a wide screen.
  const textSize = (14 * (window.devicePixelRatio || 1)) / scale;
  if (!snapshot || snapshot.players.length === 0) {
    ctx.fillStyle = colors.muted;
    ctx.font = `600 ${textSize * 1.2}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.fillText(subscribed ? 'Nobody is playing: press Play' : 'Connecting…', arena.width / 2, arena.height / 2);
  }
  if (!snapshot) return;

  for (const item of snapshot.items) drawStar(item.x, item.y, radius.item);
  for (const player of snapshot.players) {
    const p = interpolated(player, now);
    drawPlayer(p, p.id === me, textSize, arena.width);
  }
}

/** @param {number} x @param {number} y @param {number} r */
function drawStar(x, y, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    const d = i % 2 === 0 ? r * 1.25 : r * 0.55;
    ctx.lineTo(x + Math.cos(angle) * d, y + Math.sin(angle) * d);
  }
  ctx.closePath();
  ctx.fillStyle = '#f5b700';
  ctx.fill();
  ctx.strokeStyle = '#7a5a00';
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

/**
 * A dot with its name above it (below it near the top wall).
 * @param {SnapshotPlayer} p
 * @param {boolean} mine
 * @param {number} textSize in arena units
 * @param {number} arenaWidth
 */
function drawPlayer(p, mine, textSize, arenaWidth) {
  const r = radius.player;
  if (mine) {
    // A ring around our own dot: easy to find, and not by colour alone.
    ctx.beginPath();
    ctx.arc(p.x, p.y, r + 6, 0, 2 * Math.PI);
    ctx.strokeStyle = colors.accent;
    ctx.lineWidth = 3;
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
  ctx.fillStyle = p.color;
  ctx.fill();
  ctx.strokeStyle = colors.fg;
  ctx.lineWidth = 2;
  ctx.stroke();

  ctx.font = `600 ${textSize}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.lineWidth = textSize / 4;
  ctx.strokeStyle = colors.bg; // a halo keeps the name readable over the grid and other dots
  const label = mine ? `${p.name} (you)` : p.name;
  const gap = r + (mine ? 10 : 5);
  const above = p.y - gap;
  const y = above - textSize < 0 ? p.y + gap + textSize : above; // near the top wall, write it below
  // Near a side wall, slide the name inwards so that it is never cut off.
  const half = ctx.measureText(label).width / 2 + 2;
  const x = Math.min(arenaWidth - half, Math.max(half, p.x));
  ctx.strokeText(label, x, y);
  ctx.fillStyle = colors.fg;
  ctx.fillText(label, x, y);
}

// ---------------------------------------------------------------------------------------------
// Start

nameInput.value = localStorage.getItem('canal-game-name') ?? `Player ${Math.floor(100 + Math.random() * 900)}`;
showState('connecting');
setPlaying('');
watch(room);
client.connect();
requestAnimationFrame(draw);
