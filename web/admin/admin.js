// The admin page: log in, then see the nodes, this node's connections and the channels with
// their subscriber counts; open a channel to see who is there and what was said, and publish to
// it; disconnect a user. Every action is a server API call through /admin/api/, which checks the
// session on each call: this page holds no secret and decides nothing.
import { call, CallError, currentSession, logIn, logOut, SessionError } from './api.js';

/** How many publications a channel's history shows. */
const HISTORY_LIMIT = 20;

/**
 * The element with id `id`, typed as `type`; throws if the page has none.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return el;
}

/**
 * A new element; text goes in through textContent, so what users published is never run as HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

const loginSection = byId('login', HTMLElement);
const loginForm = byId('login-form', HTMLFormElement);
const passwordInput = byId('password', HTMLInputElement);
const loginButton = byId('login-button', HTMLButtonElement);
const loginMessage = byId('login-message', HTMLElement);
const loginHint = byId('login-hint', HTMLElement);
const consoleView = byId('console', HTMLElement);
const sessionLine = byId('session', HTMLElement);
const logoutButton = byId('logout', HTMLButtonElement);
const statusLine = byId('status', HTMLElement);
const nodesBody = byId('nodes', HTMLTableElement).tBodies[0] ?? document.createElement('tbody');
const connectionsList = byId('connections', HTMLElement);
const channelsBody = byId('channels', HTMLTableElement).tBodies[0] ?? document.createElement('tbody');
const patternInput = byId('pattern', HTMLInputElement);
const channelInput = byId('channel', HTMLInputElement);
const channelTitle = byId('channel-title', HTMLElement);
const channelStatus = byId('channel-status', HTMLElement);
const channelDetails = byId('channel-details', HTMLElement);
const presenceBody = byId('presence', HTMLTableElement).tBodies[0] ?? document.createElement('tbody');
const historyList = byId('history', HTMLOListElement);
const dataInput = byId('data', HTMLTextAreaElement);
const userInput = byId('user', HTMLInputElement);
const clientInput = byId('client', HTMLInputElement);
const disconnectStatus = byId('disconnect-status', HTMLElement);

/** The channel shown in the channel panel ('' before one is opened). */
let shownChannel = '';

// ---- Logging in and out ------------------------------------------------------------------

/**
 * Shows the login form, with why (an expired session...) and where the password is (dev mode).
 * @param {string} message
 * @param {string} [hint]
 */
function showLogin(message, hint) {
  consoleView.hidden = true;
  logoutButton.hidden = true;
  sessionLine.textContent = '';
  loginSection.hidden = false;
  loginMessage.textContent = message;
  if (hint !== undefined) loginHint.textContent = hint;
  passwordInput.value = '';
  passwordInput.focus();
}

/** @param {number} expiresAt */
function showConsole(expiresAt) {
  loginSection.hidden = true;
  consoleView.hidden = false;
  logoutButton.hidden = false;
  sessionLine.textContent = `Logged in until ${new Date(expiresAt).toLocaleTimeString()}`;
  void refresh();
}

loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  loginButton.disabled = true;
  loginMessage.textContent = '';
  try {
    showConsole(await logIn(passwordInput.value));
    passwordInput.value = '';
  } catch (err) {
    // "Wrong password." arrives after a delay that grows with every wrong try.
    loginMessage.textContent = describe(err);
    passwordInput.select();
  } finally {
    loginButton.disabled = false;
  }
});

logoutButton.addEventListener('click', async () => {
  await logOut().catch(() => {});
  showLogin('You are logged out.');
});

// ---- Running actions ---------------------------------------------------------------------

/** @param {unknown} err */
function describe(err) {
  if (err instanceof CallError && err.code !== 0) return `${err.message} (code ${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Shows `text` in a status line, as an error or as done.
 * @param {HTMLElement} line
 * @param {string} text
 * @param {'ok' | 'error' | ''} [kind]
 */
function say(line, text, kind = '') {
  line.textContent = text;
  line.dataset.kind = kind;
}

/**
 * Runs `action`; a lost session goes back to the login form, any other failure is shown on `line`.
 * @param {HTMLElement} line
 * @param {() => Promise<void>} action
 */
async function guarded(line, action) {
  try {
    await action();
  } catch (err) {
    if (err instanceof SessionError) showLogin(err.message);
    else say(line, describe(err), 'error');
  }
}

// ---- Nodes, connections, channels --------------------------------------------------------

function refresh() {
  return guarded(statusLine, async () => {
    await Promise.all([loadNodes(), loadConnections(), loadChannels()]);
    say(statusLine, `Updated at ${new Date().toLocaleTimeString()}.`);
  });
}

/** @param {number} seconds */
function uptime(seconds) {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return `${seconds} s`;
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** @param {Array<string | number>} cells @param {Array<HTMLElement>} [extra] */
function row(cells, extra = []) {
  const tr = element('tr');
  for (const cell of cells) tr.append(element('td', typeof cell === 'number' ? 'num' : '', String(cell)));
  if (extra.length > 0) {
    const td = element('td', 'actions');
    td.append(...extra);
    tr.append(td);
  }
  return tr;
}

async function loadNodes() {
  /** @type {{ nodes: Array<{ name: string, version: string, num_clients: number, num_users: number, num_channels: number, num_subs: number, uptime: number }> }} */
  const { nodes } = await call('info');
  nodesBody.replaceChildren(...nodes.map((n) => row([n.name, n.version, n.num_clients, n.num_users, n.num_channels, n.num_subs, uptime(n.uptime)])));
}

/** The open WebSockets of the node serving this page, by endpoint (GET /stats). */
async function loadConnections() {
  const res = await fetch('/stats', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /stats answered ${res.status}`);
  const stats = /** @type {{ connections: Record<string, number>, clients: number }} */ (await res.json());
  const items = [['protocol clients', stats.clients], ...Object.entries(stats.connections).map(([endpoint, n]) => [`${endpoint} sockets`, n])];
  connectionsList.replaceChildren(...items.map(([name, n]) => {
    const div = element('div');
    div.append(element('dt', '', String(name)), element('dd', '', String(n)));
    return div;
  }));
}

async function loadChannels() {
  const pattern = patternInput.value.trim();
  /** @type {{ channels: Record<string, { num_clients: number }> }} */
  const { channels } = await call('channels', pattern ? { pattern } : {});
  const names = Object.keys(channels).sort();
  if (names.length === 0) {
    const empty = element('td', 'muted', pattern ? `No channel matches ${pattern}.` : 'No channel has subscribers now.');
    empty.colSpan = 3;
    const tr = element('tr');
    tr.append(empty);
    channelsBody.replaceChildren(tr);
    return;
  }
  channelsBody.replaceChildren(...names.map((name) => {
    const open = element('button', 'secondary', 'Open');
    open.type = 'button';
    open.setAttribute('aria-label', `Open ${name}`);
    open.addEventListener('click', () => void openChannel(name));
    const tr = row([name, channels[name]?.num_clients ?? 0], [open]);
    tr.dataset.channel = name;
    return tr;
  }));
}

byId('refresh', HTMLButtonElement).addEventListener('click', () => void refresh());
byId('filter-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  void guarded(statusLine, loadChannels);
});

// ---- One channel: presence, history, publish ---------------------------------------------

/**
 * Shows `name`'s presence and history. A namespace without presence or history says so (108).
 * @param {string} name
 */
function openChannel(name) {
  shownChannel = name;
  channelInput.value = name;
  channelTitle.textContent = `Channel ${name}`;
  channelDetails.hidden = false;
  say(channelStatus, '');
  return guarded(channelStatus, async () => {
    await Promise.all([loadPresence(name), loadHistory(name)]);
    channelTitle.scrollIntoView({ block: 'nearest' });
  });
}

/** @param {CallError} err */
const notAvailable = (err) => err instanceof CallError && err.code === 108;

/** @param {string} name */
async function loadPresence(name) {
  /** @type {{ presence: Record<string, { client: string, user: string, conn_info?: unknown }> }} */
  let result;
  try {
    result = await call('presence', { channel: name });
  } catch (err) {
    if (!notAvailable(/** @type {CallError} */ (err))) throw err;
    presenceBody.replaceChildren(message(4, 'This channel keeps no presence (its namespace has presence off).'));
    return;
  }
  const entries = Object.values(result.presence).sort((a, b) => a.user.localeCompare(b.user) || a.client.localeCompare(b.client));
  if (entries.length === 0) {
    presenceBody.replaceChildren(message(4, 'Nobody is subscribed.'));
    return;
  }
  presenceBody.replaceChildren(...entries.map((p) => {
    const button = element('button', 'secondary', 'Disconnect');
    button.type = 'button';
    button.setAttribute('aria-label', `Disconnect client ${p.client}${p.user ? ` of ${p.user}` : ''}`);
    button.addEventListener('click', () => void disconnect(p.user, p.client, channelStatus));
    const tr = row([p.client, p.user || '(anonymous)', p.conn_info === undefined ? '' : JSON.stringify(p.conn_info)], [button]);
    tr.dataset.client = p.client;
    return tr;
  }));
}

/** @param {string} name */
async function loadHistory(name) {
  /** @type {{ publications: Array<{ data: unknown, offset?: number, info?: { user: string, conn_info?: unknown } }> }} */
  let result;
  try {
    result = await call('history', { channel: name, limit: HISTORY_LIMIT, reverse: true });
  } catch (err) {
    if (!notAvailable(/** @type {CallError} */ (err))) throw err;
    historyList.replaceChildren(element('li', 'muted', 'This channel keeps no history (its namespace has history_size 0).'));
    return;
  }
  if (result.publications.length === 0) {
    historyList.replaceChildren(element('li', 'muted', 'No publications in the history.'));
    return;
  }
  historyList.replaceChildren(...result.publications.map((p) => {
    const li = element('li');
    const who = p.info ? (p.info.user || 'anonymous') : 'server';
    li.append(element('span', 'when', `#${p.offset ?? '?'} ${who}`), JSON.stringify(p.data));
    return li;
  }));
}

/** @param {number} columns @param {string} text */
function message(columns, text) {
  const td = element('td', 'muted', text);
  td.colSpan = columns;
  const tr = element('tr');
  tr.append(td);
  return tr;
}

byId('channel-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  void openChannel(channelInput.value.trim());
});

byId('publish-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  /** @type {unknown} */
  let data;
  try {
    data = JSON.parse(dataInput.value);
  } catch (err) {
    say(channelStatus, `The data is not JSON (${describe(err)}). A text is written in quotes: "hello".`, 'error');
    return;
  }
  const channel = shownChannel;
  void guarded(channelStatus, async () => {
    /** @type {{ offset?: number }} */
    const result = await call('publish', { channel, data });
    say(channelStatus, result.offset ? `Published to ${channel} at offset ${result.offset}.` : `Published to ${channel}.`, 'ok');
    await loadHistory(channel);
  });
});

// ---- Disconnecting -----------------------------------------------------------------------

/**
 * Disconnects `user`'s connections on every node (only connection `client`, when given).
 * @param {string} user
 * @param {string} client
 * @param {HTMLElement} line
 */
function disconnect(user, client, line) {
  return guarded(line, async () => {
    await call('disconnect', client ? { user, client } : { user });
    const who = user ? `user ${user}` : 'anonymous connection';
    say(line, client ? `Disconnected client ${client} (${who}).` : `Disconnected every connection of ${who}.`, 'ok');
    presenceBody.querySelector(`tr[data-client="${CSS.escape(client)}"]`)?.remove();
  });
}

byId('disconnect-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  void disconnect(userInput.value.trim(), clientInput.value.trim(), disconnectStatus);
});

// ---- Start: logged in already? -------------------------------------------------------------

const session = await currentSession();
if ('expiresAt' in session) showConsole(session.expiresAt);
else showLogin(session.problem === 'missing' ? '' : session.message, session.hint);
