// Small helpers every protocol demo uses: where to connect, and a badge that tells a person
// whether the page is live.

/** The Centrifugo-protocol endpoint of the server that served this page (ws:, or wss: under https). */
export function protocolUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/connection/websocket`;
}

/**
 * Keeps `badge` showing the connection in words: "connecting" at first, then "connected",
 * "reconnecting" while the client retries after a drop, and "offline" when the browser has no
 * network or the client gave up. The client reconnects by itself; the badge only reports it.
 * Returns a function that stops updating the badge (for a page that replaces its client).
 * @param {import('centrifuge').Centrifuge} client
 * @param {HTMLElement} badge
 * @returns {() => void}
 */
export function showConnection(client, badge) {
  let wasConnected = false;
  const show = () => {
    /** @type {string} */
    let state;
    if (client.state === Centrifuge.State.Connected) {
      wasConnected = true;
      state = 'connected';
    } else if (client.state === Centrifuge.State.Disconnected || !navigator.onLine) {
      state = 'offline';
    } else {
      state = wasConnected ? 'reconnecting' : 'connecting';
    }
    badge.dataset.state = state;
    badge.textContent = state;
  };
  client.on('state', show);
  // The browser's own network events: "offline" shows at once, before the socket notices.
  window.addEventListener('online', show);
  window.addEventListener('offline', show);
  show();
  return () => {
    client.removeListener('state', show);
    window.removeEventListener('online', show);
    window.removeEventListener('offline', show);
  };
}
