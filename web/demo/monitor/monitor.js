// The monitor: GET /stats once a second, four charts of the last minute. Counters such as
// messages_in only grow, so the rate is the difference between two polls over the time
// between them.
import { byId } from '../shared/dom.js';
import { pollStats } from '../shared/stats.js';
import { LineChart } from './chart.js';

/** @typedef {import('../shared/stats.js').Stats} Stats */

const POLL_MS = 1000;
const POINTS = 60; // one minute

const status = byId('status', HTMLElement);
/** @param {string} id @param {string} text */
const setText = (id, text) => {
  byId(id, HTMLElement).textContent = text;
};

/** @param {number} n */
const count = (n) => n.toLocaleString('en');
/** Two significant digits below 10 (3.5, 0.25), whole numbers above. @param {number} n */
const round = (n) => (n >= 10 ? count(Math.round(n)) : String(Number(n.toPrecision(2))));
/** @param {number} n */
const perSecond = (n) => round(n);
/** @param {number} ms */
const millis = (ms) => `${round(ms)} ms`;

const connections = new LineChart(byId('connections-chart', HTMLCanvasElement), {
  series: [{ label: 'connections', color: 'var(--accent)' }], capacity: POINTS, format: count, whole: true,
});
const channels = new LineChart(byId('channels-chart', HTMLCanvasElement), {
  series: [{ label: 'channels', color: 'var(--accent)' }], capacity: POINTS, format: count, whole: true,
});
const messages = new LineChart(byId('messages-chart', HTMLCanvasElement), {
  series: [{ label: 'in', color: 'var(--accent)' }, { label: 'out', color: 'var(--warn)' }], capacity: POINTS, format: perSecond,
});
const latency = new LineChart(byId('latency-chart', HTMLCanvasElement), {
  series: [{ label: 'p50', color: 'var(--accent)' }, { label: 'p99', color: 'var(--warn)' }], capacity: POINTS, format: millis, minTop: 0.1,
});

/** The previous poll's figures, for the rates. @type {Stats | undefined} */
let previous;

pollStats(POLL_MS, (stats) => {
  status.dataset.state = 'connected';
  status.textContent = 'live';

  const byEndpoint = Object.entries(stats.connections);
  const open = byEndpoint.reduce((sum, [, n]) => sum + n, 0);
  connections.push([open]);
  setText('connections-now', count(open));
  setText('connections-detail', byEndpoint.map(([endpoint, n]) => `${endpoint} ${n}`).join(' · '));

  channels.push([stats.channels]);
  setText('channels-now', count(stats.channels));
  setText('channels-detail', `${count(stats.subscriptions)} subscription${stats.subscriptions === 1 ? '' : 's'}`);

  if (previous) {
    const seconds = Math.max(0.001, (stats.time - previous.time) / 1000);
    // A counter that went down means the server restarted: count from zero again.
    const rate = (/** @type {number} */ now, /** @type {number} */ before) => Math.max(0, now - before) / seconds;
    const rateIn = rate(stats.messages_in, previous.messages_in);
    const rateOut = rate(stats.messages_out, previous.messages_out);
    messages.push([rateIn, rateOut]);
    setText('messages-in-now', perSecond(rateIn));
    setText('messages-out-now', perSecond(rateOut));
  }
  previous = stats;

  latency.push([stats.latency_ms.p50, stats.latency_ms.p99]);
  // The server measures latency in whole milliseconds, so 0 means "under 1 ms".
  const { p50, p99, samples } = stats.latency_ms;
  /** @param {number} ms */
  const latencyText = (ms) => (samples === 0 ? 'idle' : ms < 1 ? '< 1 ms' : millis(ms));
  setText('latency-p50-now', latencyText(p50));
  setText('latency-p99-now', latencyText(p99));
  setText('uptime', uptime(stats.uptime_seconds));
}, (err) => {
  status.dataset.state = 'offline';
  status.textContent = 'server unreachable';
  console.warn('GET /stats failed:', err);
});

/** @param {number} seconds */
function uptime(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${seconds % 60} s` : `${seconds} s`;
}
