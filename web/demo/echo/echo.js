// The seed's client.html, grown up: the same WebSocket calls, plus a page that shows them.
// It connects to the server that served it, so it works on any host and port.

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;

const stateBadge = /** @type {HTMLElement} */ (document.getElementById('state'));
const log = /** @type {HTMLOListElement} */ (document.getElementById('log'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('send-form'));
const input = /** @type {HTMLInputElement} */ (document.getElementById('message'));
const sendButton = /** @type {HTMLButtonElement} */ (document.getElementById('send'));
const reconnectButton = /** @type {HTMLButtonElement} */ (document.getElementById('reconnect'));
/** @type {HTMLElement} */ (document.getElementById('url')).textContent = url;

/** @type {WebSocket | undefined} */
let ws;

/** @param {string} state */
function showState(state) {
  stateBadge.textContent = state;
  stateBadge.dataset.state = state;
  sendButton.disabled = state !== 'open';
}

/**
 * Adds a line to the on-page log. textContent, never innerHTML: messages are shown as text.
 * @param {'sent' | 'received' | 'event'} kind
 * @param {string} text
 */
function addLine(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  const dir = document.createElement('span');
  dir.className = 'dir';
  dir.textContent = kind === 'sent' ? 'sent' : kind === 'received' ? 'received' : 'event';
  li.append(dir, text);
  log.append(li);
  li.scrollIntoView({ block: 'nearest' });
}

/** @param {string} text */
function send(text) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(text);
  addLine('sent', text);
}

function connect() {
  ws?.close();
  showState('connecting');
  const socket = new WebSocket(url);
  ws = socket;
  socket.onopen = () => {
    showState('open');
    send('hello'); // envío inicial, as in the seed
  };
  socket.onmessage = (e) => {
    console.log('he recibido un mensaje:', e.data);
    addLine('received', typeof e.data === 'string' ? e.data : '(binary message)');
  };
  socket.onclose = (e) => {
    console.log('closed');
    if (ws !== socket) return;
    showState('closed');
    addLine('event', `closed (code ${e.code}${e.reason ? `: ${e.reason}` : ''})`);
  };
  socket.onerror = (e) => console.error('ws error:', e);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (input.value === '') return;
  send(input.value);
  input.value = '';
  input.focus();
});
reconnectButton.addEventListener('click', connect);

connect();
