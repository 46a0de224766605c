import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineMetrics, combineStats, Metrics, type MetricSources } from '../../src/metrics.js';
import { parseExposition, seriesKey } from '../helpers/prometheus.js';

/** A worker's Metrics with fixed live figures, labelled worker="INDEX" as canal serve --workers labels them. */
function workerMetrics(index: number, figures: { clients: number; protocol: number }): Metrics {
  const sources: MetricSources = {
    connections: () => ({ echo: 0, protocol: figures.protocol, raw: 0 }),
    clients: () => figures.clients,
    channels: () => 1,
    subscriptions: () => figures.clients,
  };
  const metrics = new Metrics(sources);
  metrics.registry.setDefaultLabels({ worker: String(index) });
  return metrics;
}

describe('combineMetrics()', () => {
  it('gives one HELP and TYPE per metric and every worker\'s series apart, by its worker label', async () => {
    const one = workerMetrics(1, { clients: 3, protocol: 3 });
    const two = workerMetrics(2, { clients: 5, protocol: 6 });
    one.received('protocol', 'publish');
    two.received('protocol', 'publish');
    two.received('protocol', 'publish');
    one.delivered(2, 3);
    two.delivered(30, 5);
    const text = await combineMetrics([await one.registry.getMetricsAsJSON(), await two.registry.getMetricsAsJSON()]);
    const values = new Map<string, number>();
    for (const family of parseExposition(text).values()) for (const s of family.samples) values.set(seriesKey(s.name, s.labels), s.value);
    assert.equal(values.get(seriesKey('canal_clients', { worker: '1' })), 3);
    assert.equal(values.get(seriesKey('canal_clients', { worker: '2' })), 5);
    assert.equal(values.get(seriesKey('canal_connections', { endpoint: 'protocol', worker: '2' })), 6);
    assert.equal(values.get(seriesKey('canal_messages_received_total', { endpoint: 'protocol', kind: 'publish', worker: '1' })), 1);
    assert.equal(values.get(seriesKey('canal_messages_received_total', { endpoint: 'protocol', kind: 'publish', worker: '2' })), 2);
    assert.equal(values.get(seriesKey('canal_delivery_latency_seconds_count', { worker: '1' })), 1);
    assert.equal(values.get(seriesKey('canal_delivery_latency_seconds_bucket', { le: '0.005', worker: '1' })), 1);
    assert.equal(values.get(seriesKey('canal_delivery_latency_seconds_bucket', { le: '0.005', worker: '2' })), 0);
  });
});

describe('combineStats()', () => {
  it('sums counts, takes percentiles over every worker\'s samples and the longest uptime, and says how many workers answered', () => {
    const one = workerMetrics(1, { clients: 3, protocol: 3 });
    const two = workerMetrics(2, { clients: 5, protocol: 6 });
    for (let i = 1; i <= 98; i++) one.delivered(i, 1);
    two.delivered(500, 1);
    two.delivered(1000, 1);
    const stats = combineStats([one, two].map((m) => ({ stats: m.snapshot(), latencies: m.latencySamples() })));
    assert.equal(stats.clients, 8);
    assert.deepEqual(stats.connections, { echo: 0, protocol: 9, raw: 0 });
    assert.equal(stats.channels, 2);
    assert.equal(stats.publications, 100);
    assert.equal(stats.workers, 2);
    assert.deepEqual(stats.latency_ms, { p50: 51, p99: 1000, max: 1000, samples: 100 });
  });

  it('gives zeros, not NaN, when no worker has samples', () => {
    const stats = combineStats([{ stats: workerMetrics(1, { clients: 0, protocol: 0 }).snapshot(), latencies: [] }]);
    assert.deepEqual(stats.latency_ms, { p50: 0, p99: 0, max: 0, samples: 0 });
  });
});
