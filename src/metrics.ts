/**
 * Metrics: plain counters on the hot paths (an increment, no label hashing per message), turned
 * into Prometheus metrics by prom-client only when /metrics is scraped, plus one histogram of
 * publish-to-delivery latency observed once per publication (not per subscriber). Each Canal
 * has its own registry, so several servers in one process do not mix their figures.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Live figures read at scrape time. */
export interface MetricSources {
  /** Open WebSockets by endpoint (echo, protocol, raw). */
  connections(): Record<string, number>;
  /** Connected protocol clients (after connect). */
  clients(): number;
  channels(): number;
  subscriptions(): number;
}

/** What GET /stats returns: counts for the landing page and the monitor demo. */
export interface Stats {
  readonly time: number;
  readonly uptime_seconds: number;
  readonly connections: Record<string, number>;
  readonly clients: number;
  readonly channels: number;
  readonly subscriptions: number;
  readonly messages_in: number;
  readonly messages_out: number;
  readonly publications: number;
  /** Publish-to-delivery latency of the publications of the last 5 s, in milliseconds. */
  readonly latency_ms: { readonly p50: number; readonly p99: number; readonly max: number; readonly samples: number };
  /** With `canal serve --workers N`: how many workers' figures these are (the sum of). */
  readonly workers?: number;
}

/** One worker's part of the figures of several: its Stats and its recent latency samples (ms). */
export interface StatsPart {
  readonly stats: Stats;
  readonly latencies: readonly number[];
}

/** Percentiles of latency samples (ms), for /stats. */
function latencySummary(samples: number[]): Stats['latency_ms'] {
  samples.sort((a, b) => a - b);
  const n = samples.length;
  const pct = (p: number): number => (n === 0 ? 0 : samples[Math.min(n - 1, Math.floor(p * n))]!);
  return { p50: pct(0.5), p99: pct(0.99), max: n === 0 ? 0 : samples[n - 1]!, samples: n };
}

/**
 * The figures of several workers of one `canal serve` as one: counts summed (connections by
 * endpoint too), percentiles taken over every worker's samples, uptime the longest.
 */
export function combineStats(parts: readonly StatsPart[]): Stats {
  const connections: Record<string, number> = {};
  let clients = 0, channels = 0, subscriptions = 0, messagesIn = 0, messagesOut = 0, publications = 0, uptime = 0;
  const samples: number[] = [];
  for (const { stats, latencies } of parts) {
    for (const [endpoint, n] of Object.entries(stats.connections)) connections[endpoint] = (connections[endpoint] ?? 0) + n;
    clients += stats.clients;
    // A channel with subscribers on two workers counts twice: each worker has it.
    channels += stats.channels;
    subscriptions += stats.subscriptions;
    messagesIn += stats.messages_in;
    messagesOut += stats.messages_out;
    publications += stats.publications;
    uptime = Math.max(uptime, stats.uptime_seconds);
    samples.push(...latencies);
  }
  return {
    time: Date.now(),
    uptime_seconds: uptime,
    connections,
    clients,
    channels,
    subscriptions,
    messages_in: messagesIn,
    messages_out: messagesOut,
    publications,
    latency_ms: latencySummary(samples),
    workers: parts.length,
  };
}

/** One registry's metrics as data (`registry.getMetricsAsJSON()`), to send between processes. */
export type MetricsData = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Prometheus text of several workers' metrics: one HELP and TYPE per metric, each worker's series
 * kept apart by its `worker` label (prom-client's aggregator sums only series whose labels are
 * all equal, and the label makes them differ).
 */
export function combineMetrics(parts: readonly MetricsData[]): Promise<string> {
  return AggregatorRegistry.aggregate([...parts]).metrics();
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const WINDOW = 2048;

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export class Metrics {
  readonly registry = new Registry();
  readonly #startedAt = Date.now();
  readonly #sources: MetricSources;
  /** Commands and messages received, by endpoint/kind (`protocol:publish`, `raw:message`, `echo:message`). */
  readonly #received = new Map<string, number>();
  /** Messages sent, by kind (`reply`, `publication`, `join_leave`, `ping`, `raw`). */
  readonly #sent = new Map<string, number>();
  readonly #errors = new Map<string, number>();
  readonly #disconnects = new Map<string, number>();
  readonly #api = new Map<string, number>();
  readonly #engineErrors = new Map<string, number>();
  #publications = 0;
  readonly #latency: Histogram;
  /** The latest latency samples (ms) and when they were taken, a ring for /stats percentiles. */
  readonly #window = new Float64Array(WINDOW);
  readonly #windowAt = new Float64Array(WINDOW);
  #windowCount = 0;

  constructor(sources: MetricSources) {
    this.#sources = sources;
    const r = this.registry;
    const self = this;
    const countersFrom = (name: string, help: string, labelNames: string[], map: Map<string, number>): void => {
      new Counter({
        name, help, labelNames, registers: [r],
        collect() {
          this.reset();
          for (const [key, value] of map) {
            const parts = key.split('|');
            const labels: Record<string, string> = {};
            labelNames.forEach((l, i) => (labels[l] = parts[i] ?? ''));
            this.inc(labels, value);
          }
        },
      });
    };
    new Gauge({
      name: 'canal_connections', help: 'Open WebSocket connections, by endpoint.', labelNames: ['endpoint'], registers: [r],
      collect() {
        for (const [endpoint, n] of Object.entries(self.#sources.connections())) this.set({ endpoint }, n);
      },
    });
    new Gauge({ name: 'canal_clients', help: 'Connected protocol clients.', registers: [r], collect() { this.set(self.#sources.clients()); } });
    new Gauge({ name: 'canal_channels', help: 'Channels with local subscribers.', registers: [r], collect() { this.set(self.#sources.channels()); } });
    new Gauge({ name: 'canal_subscriptions', help: 'Local subscriptions.', registers: [r], collect() { this.set(self.#sources.subscriptions()); } });
    countersFrom('canal_messages_received_total', 'Messages received, by endpoint and kind (protocol commands by method).', ['endpoint', 'kind'], this.#received);
    countersFrom('canal_messages_sent_total', 'Messages sent, by kind.', ['kind'], this.#sent);
    countersFrom('canal_errors_total', 'Reply errors sent, by code.', ['code'], this.#errors);
    countersFrom('canal_disconnects_total', 'Connections closed by the server, by code.', ['code'], this.#disconnects);
    countersFrom('canal_api_requests_total', 'Server API calls, by method and outcome.', ['method', 'outcome'], this.#api);
    countersFrom('canal_engine_errors_total', 'Failed engine calls, by operation.', ['operation'], this.#engineErrors);
    new Counter({
      name: 'canal_publications_total', help: 'Publications delivered to this node.', registers: [r],
      collect() {
        this.reset();
        this.inc(self.#publications);
      },
    });
    this.#latency = new Histogram({
      name: 'canal_delivery_latency_seconds',
      help: 'Time from publish (accepted by the broker) to local fan-out.',
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
  }

  received(endpoint: string, kind: string): void {
    increment(this.#received, `${endpoint}|${kind}`);
  }

  sent(kind: string, count = 1): void {
    increment(this.#sent, kind, count);
  }

  error(code: number): void {
    increment(this.#errors, String(code));
  }

  disconnect(code: number): void {
    increment(this.#disconnects, String(code));
  }

  api(method: string, outcome: string): void {
    increment(this.#api, `${method}|${outcome}`);
  }

  engineError(operation: string): void {
    increment(this.#engineErrors, operation);
  }

  /** A publication reached this node `latencyMs` after it was published, for `subscribers` local subscribers. */
  delivered(latencyMs: number, subscribers: number): void {
    this.#publications++;
    if (subscribers > 0) this.sent('publication', subscribers);
    const ms = Math.max(0, latencyMs);
    this.#latency.observe(ms / 1000);
    this.#window[this.#windowCount % WINDOW] = ms;
    this.#windowAt[this.#windowCount % WINDOW] = Date.now();
    this.#windowCount++;
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The figures behind GET /stats. */
  snapshot(): Stats {
    const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    return {
      time: Date.now(),
      uptime_seconds: Math.floor((Date.now() - this.#startedAt) / 1000),
      connections: this.#sources.connections(),
      clients: this.#sources.clients(),
      channels: this.#sources.channels(),
      subscriptions: this.#sources.subscriptions(),
      messages_in: sum(this.#received),
      messages_out: sum(this.#sent),
      publications: this.#publications,
      latency_ms: latencySummary(this.latencySamples()),
    };
  }

  /** Publish-to-delivery latencies (ms) of the last 5 s, at most the latest 2048, unsorted. */
  latencySamples(): number[] {
    const since = Date.now() - 5000;
    const samples: number[] = [];
    for (let i = 0; i < Math.min(this.#windowCount, WINDOW); i++) if (this.#windowAt[i]! >= since) samples.push(this.#window[i]!);
    return samples;
  }
}
