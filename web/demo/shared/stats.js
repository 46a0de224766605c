// GET /stats: the server's live figures, as the landing page and the monitor read them.

/**
 * What GET /stats returns (src/http/metrics.ts, `Stats`).
 * @typedef {object} Stats
 * @property {number} time                    server clock, ms since the epoch
 * @property {number} uptime_seconds
 * @property {Record<string, number>} connections  open WebSockets by endpoint (protocol, echo, raw)
 * @property {number} clients                 connected protocol clients
 * @property {number} channels                channels with subscribers on this server
 * @property {number} subscriptions
 * @property {number} messages_in             messages received since start (a counter)
 * @property {number} messages_out            messages sent since start (a counter)
 * @property {number} publications
 * @property {{p50: number, p99: number, max: number, samples: number}} latency_ms
 *           publish-to-delivery latency over the last 5 s
 */

/** @returns {Promise<Stats>} */
export async function fetchStats() {
  // no-store: every poll must reach the server, not a cache.
  const res = await fetch('/stats', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /stats answered ${res.status}`);
  return /** @type {Stats} */ (await res.json());
}

/**
 * Calls `onStats` with fresh stats about every `intervalMs`, and `onError` when a poll fails
 * (it keeps polling: the server may be restarting). The next poll is scheduled only after the
 * previous one finished, so a slow server never has requests piling up.
 * @param {number} intervalMs
 * @param {(stats: Stats) => void} onStats
 * @param {(error: unknown) => void} [onError]
 * @returns {() => void} stops polling
 */
export function pollStats(intervalMs, onStats, onError) {
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const poll = async () => {
    try {
      const stats = await fetchStats();
      if (!stopped) onStats(stats);
    } catch (err) {
      if (!stopped) onError?.(err);
    }
    if (!stopped) timer = setTimeout(poll, intervalMs);
  };
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
