// The landing page: the endpoints of this very server, and its live figures every 2 s.
import { pollStats } from '../demo/shared/stats.js';

const ws = location.protocol === 'https:' ? 'wss' : 'ws';
/** @param {string} id @param {string} text */
const setText = (id, text) => {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
};

setText('echo-url', `${ws}://${location.host}/`);
setText('protocol-url', `${ws}://${location.host}/connection/websocket`);
// The snippets to copy name this very server.
for (const el of document.querySelectorAll('.this-origin')) el.textContent = location.origin;
for (const el of document.querySelectorAll('.this-ws-origin')) el.textContent = `${ws}://${location.host}`;

pollStats(2000, (stats) => {
  setText('stat-clients', String(stats.clients));
  setText('stat-channels', String(stats.channels));
  setText('stat-connections', String(Object.values(stats.connections).reduce((a, b) => a + b, 0)));
  const m = Math.floor(stats.uptime_seconds / 60);
  setText('stat-uptime', m > 0 ? `${m} min` : `${stats.uptime_seconds} s`);
}, () => setText('stat-uptime', 'unreachable'));
