// The chat, all of its client side. A room is a channel `chat:<room>`; in dev mode the `chat`
// namespace keeps 100 messages for 10 minutes, makes every subscription recoverable, and keeps
// presence with join/leave events. The steps, in order:
//   1. connect with a token that names you (fetched from /demo/token),
//   2. subscribe to the room, check who is here (a nickname someone in the room already has
//      is refused), then load its recent history,
//   3. show live messages, joins and leaves,
//   4. after a drop, the client reconnects and recovers what was missed by itself.
import { protocolUrl, showConnection } from '../shared/connection.js';
import { byId, element } from '../shared/dom.js';

/** @typedef {import('centrifuge').Centrifuge} Client */
/** @typedef {import('centrifuge').Subscription} Subscription */
/** @typedef {import('centrifuge').ClientInfo} ClientInfo */
/** @typedef {import('centrifuge').PublicationContext} PublicationContext */
/** @typedef {import('centrifuge').SubscribedContext} SubscribedContext */

const HISTORY_LIMIT = 50;
/** The nickname rule of GET /demo/token (src/http/dev-token.ts), checked here to fail early. */
const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;
const NAME_KEY = 'canal-chat-name';
/** Any room can be linked to as /demo/chat/#name; the select offers a few. */
const ROOM = /^[a-z0-9-]{1,32}$/;
/** Where this tab keeps the client ids it had, so that a reload knows its own leftovers in presence. */
const CLIENTS_KEY = 'canal-chat-clients';

const badge = byId('state', HTMLElement);
const joinForm = byId('join-form', HTMLFormElement);
const nameInput = byId('name', HTMLInputElement);
const roomSelect = byId('room', HTMLSelectElement);
const joinError = byId('join-error', HTMLElement);
const chat = byId('chat', HTMLElement);
const roomTitle = byId('room-title', HTMLElement);
const messages = byId('messages', HTMLOListElement);
const sendForm = byId('send-form', HTMLFormElement);
const textInput = byId('text', HTMLInputElement);
const sendButton = byId('send', HTMLButtonElement);
const whoList = byId('who', HTMLUListElement);
const whoCount = byId('who-count', HTMLElement);

/**
 * The connection. The nickname is inside its token, so a new nickname means a new client.
 * @type {{ client: Client, name: string, clientId: string, stopBadge: () => void } | undefined}
 */
let connection;

/**
 * The room we are in.
 * @typedef {object} Room
 * @property {string} name
 * @property {Subscription} sub
 * @property {Set<number>} shown  offsets already on screen: a publication can arrive from
 *   history, live and from recovery, and must be shown once
 * @property {string} epoch  the stream's epoch; when it changes, offsets start over
 * @property {Map<string, ClientInfo>} present  who is here, by connection id
 */
/** @type {Room | undefined} */
let room;

/**
 * Every client id this tab has connected as, newest last (kept in sessionStorage, which a reload
 * of the tab keeps and other tabs do not share). A dropped connection can stay in presence for a
 * while; when its id is ours, it is us coming back, not someone else with our nickname.
 * @type {string[]}
 */
const myClients = readClients();

/** @returns {string[]} */
function readClients() {
  try {
    const saved = /** @type {unknown} */ (JSON.parse(sessionStorage.getItem(CLIENTS_KEY) ?? '[]'));
    return Array.isArray(saved) ? saved.filter((id) => typeof id === 'string') : [];
  } catch {
    return []; // not JSON: start afresh
  }
}

/** @param {string} id */
function rememberClient(id) {
  myClients.push(id);
  myClients.splice(0, myClients.length - 20); // a tab reconnects often over a day; the recent ones suffice
  sessionStorage.setItem(CLIENTS_KEY, JSON.stringify(myClients));
}

// ---- 1. Connecting, with a token that carries the nickname --------------------------------

/**
 * Asks this server for a connection token naming `name`. The client calls it before it
 * connects and again whenever the token is about to expire, so a long session keeps working.
 * @param {string} name
 * @returns {Promise<string>}
 */
async function fetchToken(name) {
  const res = await fetch(`/demo/token?user=${encodeURIComponent(name)}`, { cache: 'no-store' });
  // A refused name will not get better by retrying: UnauthorizedError makes the client stop.
  if (res.status === 400) throw new Centrifuge.UnauthorizedError('nickname refused');
  if (res.status === 404) {
    // No demo tokens here: the server was given its own token secret (it never mints tokens
    // with an operator's secret), so retrying would loop for ever.
    joinError.textContent = 'This server mints no demo tokens (it has its own token secret). Start canal without --token-hmac-secret to try the chat.';
    throw new Centrifuge.UnauthorizedError('no demo tokens on this server');
  }
  if (!res.ok) throw new Error(`GET /demo/token answered ${res.status}`); // the client retries
  const body = /** @type {{ token: string }} */ (await res.json());
  return body.token;
}

/** @param {string} name */
function connect(name) {
  if (connection) {
    leaveRoom();
    connection.stopBadge();
    connection.client.disconnect();
  }
  const client = new Centrifuge(protocolUrl(), { getToken: () => fetchToken(name) });
  const current = { client, name, clientId: '', stopBadge: showConnection(client, badge) };
  connection = current;
  client.on('connected', (ctx) => {
    current.clientId = ctx.client;
    rememberClient(ctx.client);
    joinError.textContent = '';
  });
  client.on('disconnected', (ctx) => {
    if (ctx.code !== 0) joinError.textContent = `Disconnected: ${ctx.reason}. Press Enter to try again.`;
  });
  client.on('state', () => updateSendButton());
  client.connect();
}

// ---- 2. Entering a room: subscribe, then history and presence -----------------------------

/** @param {string} name */
function enterRoom(name) {
  if (!connection) return;
  if (room?.name === name) return;
  leaveRoom();
  // joinLeave: ask for join and leave events (the namespace must allow them, and it does).
  const sub = connection.client.newSubscription(`chat:${name}`, { joinLeave: true });
  /** @type {Room} */
  const r = { name, sub, shown: new Set(), epoch: '', present: new Map() };
  room = r;
  messages.replaceChildren();
  renderWho(r);
  roomTitle.textContent = `#${name}`;
  chat.hidden = false;

  // Handlers must not throw: the client treats an exception in a handler as a protocol error
  // and disconnects. Async work reports its failures itself (showFailure).
  sub.on('subscribed', (ctx) => void onSubscribed(r, ctx).catch(showFailure));
  sub.on('publication', (ctx) => showPublication(r, ctx));
  sub.on('join', (ctx) => {
    r.present.set(ctx.info.client, ctx.info);
    renderWho(r);
    if (ctx.info.client !== connection?.clientId) notice(`${nameOf(ctx.info)} joined`);
  });
  sub.on('leave', (ctx) => {
    r.present.delete(ctx.info.client);
    renderWho(r);
    if (ctx.info.client !== connection?.clientId) notice(`${nameOf(ctx.info)} left`);
  });
  sub.on('state', () => updateSendButton());
  sub.on('subscribing', (ctx) => {
    // Code 1: the connection dropped. The client reconnects, then resubscribes asking for
    // what it missed (see onSubscribed).
    if (ctx.code === 1) notice('Connection lost. Reconnecting…');
  });
  sub.on('unsubscribed', (ctx) => {
    if (ctx.code !== 0) notice(`Left #${name}: ${ctx.reason}`);
  });
  sub.subscribe();
}

function leaveRoom() {
  if (!room || !connection) return;
  // Unsubscribes and forgets the subscription, so the channel can be subscribed again later.
  connection.client.removeSubscription(room.sub);
  room = undefined;
}

/**
 * Called on the first subscribe and after every reconnect. On a reconnect the client asked
 * the server for what it missed; `recovered` says whether it got all of it. The recovered
 * publications arrive right after this, as ordinary 'publication' events.
 * @param {Room} r
 * @param {SubscribedContext} ctx
 */
async function onSubscribed(r, ctx) {
  const epoch = ctx.streamPosition?.epoch ?? '';
  if (r.epoch !== '' && epoch !== r.epoch) {
    // A new epoch (the server restarted, or the room sat empty past its history TTL): offsets
    // start over, so what is on screen can no longer be matched to the history.
    r.shown.clear();
    messages.replaceChildren();
  }
  r.epoch = epoch;
  if (!ctx.wasRecovering) {
    // Who is here first: a nickname in use is refused before anything is shown as "yours".
    await refreshPresence(r);
    if (room !== r) return;
    if (nameTaken(r)) {
      refuseName(r);
      return;
    }
    await loadHistory(r, 'earlier');
    return;
  }
  if (ctx.recovered) {
    notice(ctx.hasRecoveredPublications ? 'Back online. Messages sent while you were away follow.' : 'Back online. You missed nothing.');
  } else {
    notice('Back online, but too much happened to recover every message: history reloaded.');
    await loadHistory(r, 'latest');
  }
  await refreshPresence(r);
}

/**
 * Shows the room's last messages, oldest first. Messages already shown (by offset) are skipped,
 * so a message that arrives live while the history is loading is never shown twice.
 * @param {Room} r
 * @param {'earlier' | 'latest'} kind
 */
async function loadHistory(r, kind) {
  messages.setAttribute('aria-busy', 'true'); // one announcement for the batch, not fifty
  try {
    // reverse: the newest first, so `limit` keeps the latest ones.
    const { publications } = await r.sub.history({ limit: HISTORY_LIMIT, reverse: true });
    if (room !== r) return;
    for (const pub of publications.reverse()) showPublication(r, pub);
    if (kind === 'earlier') {
      notice(publications.length === 0
        ? `You are in #${r.name}. No messages in the last 10 minutes.`
        : `You are in #${r.name}. Above: the last ${publications.length} message${publications.length === 1 ? '' : 's'}.`);
    }
  } finally {
    messages.removeAttribute('aria-busy');
  }
}

/**
 * Whether someone else in the room shows our nickname: a connection of another tab or person,
 * not one of this tab's own earlier connections.
 * @param {Room} r
 */
function nameTaken(r) {
  const name = connection?.name;
  return [...r.present.values()].some((info) => nameOf(info) === name && !myClients.includes(info.client));
}

/**
 * Leaves the room and asks for another nickname: two people with one name would both see the
 * other's messages marked as theirs.
 * @param {Room} r
 */
function refuseName(r) {
  const name = connection?.name ?? '';
  leaveRoom();
  chat.hidden = true;
  joinError.textContent = `“${name}” is already in #${r.name}. Pick another nickname.`;
  nameInput.focus();
  nameInput.select();
}

/** @param {Room} r */
async function refreshPresence(r) {
  const { clients } = await r.sub.presence();
  if (room !== r) return;
  r.present = new Map(Object.entries(clients));
  renderWho(r);
}

// ---- 3. Showing messages and who is here --------------------------------------------------

/**
 * The name to show for a publication's or presence entry's author: the `name` in the
 * connection token's info claim, which the server signed. A name inside the message data is
 * ignored, since anyone can put anything there.
 * @param {ClientInfo | undefined} info
 */
function nameOf(info) {
  if (!info) return 'server'; // published by the server API or canal publish
  const name = /** @type {unknown} */ (info.connInfo?.name);
  return typeof name === 'string' && name !== '' ? name : info.user || 'anonymous';
}

/**
 * Adds one publication to the list, once, in offset order.
 * @param {Room} r
 * @param {PublicationContext} pub
 */
function showPublication(r, pub) {
  if (room !== r) return;
  if (pub.offset !== undefined) {
    if (r.shown.has(pub.offset)) return;
    r.shown.add(pub.offset);
  }
  const li = element('li', 'message');
  const mine = pub.info !== undefined && pub.info.user === connection?.name;
  if (mine) li.classList.add('mine');
  li.append(element('span', 'author', nameOf(pub.info)), element('span', 'text', textOf(pub.data)));
  const offset = pub.offset;
  addLine(li, mine, () => {
    if (offset === undefined) return null;
    li.dataset.offset = String(offset);
    // History can arrive after live messages: insert before the first newer message.
    return [...messages.querySelectorAll('li[data-offset]')]
      .find((el) => Number(/** @type {HTMLElement} */ (el).dataset.offset) > offset) ?? null;
  });
}

/**
 * What a publication says: this page sends `{text}`; `canal publish chat:room hi` and a plain
 * client on /raw/chat:room send a JSON string, shown as it is (not in quotes); anything else is
 * shown as JSON.
 * @param {unknown} data
 */
function textOf(data) {
  if (typeof data === 'string') return data;
  if (typeof data === 'object' && data !== null && 'text' in data && typeof data.text === 'string') return data.text;
  return JSON.stringify(data);
}

/** A line that is not a message: joins, leaves, reconnections. @param {string} text */
function notice(text) {
  addLine(element('li', 'notice', text), false, () => null);
}

/**
 * Inserts `li` before the element `before()` returns (null: at the end), and keeps the list
 * scrolled to the newest line, unless the reader scrolled up to read older ones.
 * @param {HTMLLIElement} li
 * @param {boolean} mine  your own message always scrolls into view
 * @param {() => Element | null} before
 */
function addLine(li, mine, before) {
  const atEnd = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 48;
  messages.insertBefore(li, before());
  if (atEnd || mine) messages.scrollTop = messages.scrollHeight;
}

/** @param {Room} r */
function renderWho(r) {
  // One line per person, though one person may be here from several tabs.
  /** @type {Map<string, { name: string, mine: boolean }>} */
  const people = new Map();
  for (const info of r.present.values()) {
    people.set(info.user || info.client, { name: nameOf(info), mine: info.user === connection?.name });
  }
  const sorted = [...people.values()].sort((a, b) => a.name.localeCompare(b.name));
  whoList.replaceChildren(...sorted.map((p) => element('li', p.mine ? 'mine' : '', p.mine ? `${p.name} (you)` : p.name)));
  whoCount.textContent = `(${sorted.length})`;
}

/** @param {unknown} err */
function showFailure(err) {
  const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
  notice(`Something failed: ${message}`);
}

// ---- 4. Sending --------------------------------------------------------------------------

function updateSendButton() {
  sendButton.disabled = !(room && room.sub.state === Centrifuge.SubscriptionState.Subscribed
    && connection?.client.state === Centrifuge.State.Connected);
}

sendForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = textInput.value.trim();
  if (!room || text === '') return;
  try {
    // Only the text: the server attaches who sent it (info.connInfo.name) from the token.
    await room.sub.publish({ text });
    textInput.value = '';
  } catch (err) {
    // A moderation backend (README, "Moderation") refuses with a code and a sentence of its own.
    if (typeof err === 'object' && err !== null && 'code' in err && err.code !== 100 && 'message' in err) notice(`Not sent: ${String(err.message)}`);
    else showFailure(err);
  }
  textInput.focus();
});

// ---- Start: nickname (remembered) and room ------------------------------------------------

joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = nameInput.value.trim();
  if (!NAME.test(name)) {
    joinError.textContent = 'A nickname is 1–32 letters, digits, spaces, _ . or -.';
    nameInput.focus();
    return;
  }
  joinError.textContent = '';
  localStorage.setItem(NAME_KEY, name);
  if (connection?.name !== name || connection.client.state === Centrifuge.State.Disconnected) connect(name);
  enterRoom(roomSelect.value);
  location.hash = roomSelect.value; // a link to this room
  textInput.focus();
});

// Once in, picking another room switches at once.
roomSelect.addEventListener('change', () => {
  if (connection) joinForm.requestSubmit();
});

/** Selects the room named in the address (#room), if any; returns whether it did. */
function selectLinkedRoom() {
  const linked = decodeURIComponent(location.hash.slice(1));
  if (!ROOM.test(linked)) return false;
  if (![...roomSelect.options].some((o) => o.value === linked)) roomSelect.add(new Option(linked, linked));
  roomSelect.value = linked;
  return true;
}

window.addEventListener('hashchange', () => {
  if (selectLinkedRoom() && connection && room?.name !== roomSelect.value) joinForm.requestSubmit();
});

selectLinkedRoom();
const remembered = localStorage.getItem(NAME_KEY);
if (remembered && NAME.test(remembered)) {
  nameInput.value = remembered;
  joinForm.requestSubmit(); // a returning visitor goes straight in
} else {
  nameInput.focus();
}
