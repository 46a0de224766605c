/**
 * `canal serve --workers 2` whose worker keeps failing at start (its Redis, a private one, is
 * gone): the primary restarts it with growing delays, never in a tight loop, then gives up:
 * it stops the other worker, says why once, and exits 1 (src/cli/restart-policy.ts).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startRedisServer } from '../helpers/redis.js';
import { startWorkers } from '../helpers/workers.js';

describe('canal serve --workers 2 whose worker keeps failing at start', async () => {
  const redis = await startRedisServer();
  after(() => redis.kill());
  const server = await startWorkers(['--workers', '2', '--engine', 'redis', '--redis-url', redis.url, '--redis-timeout', '500ms', '--log-level', 'info']);

  it('restarts it with growing delays, then gives up: stops the other worker, says why once, exits 1', async () => {
    await redis.kill();
    process.kill(server.workerPid(1), 'SIGKILL');
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 1, signal: null });
    const delays = server.logs.filter((l) => l.worker === 1 && typeof l.restartInMs === 'number').map((l) => l.restartInMs as number);
    assert.ok(delays.length >= 3, `restarted at least 3 times: ${JSON.stringify(delays)}`);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! > delays[i - 1]!, `each delay longer than the last: ${JSON.stringify(delays)}`);
    const lines = server.logs.filter((l) => 'text' in l).map((l) => String(l.text));
    assert.equal(lines.filter((l) => l.startsWith('canal: cannot reach Redis')).length, 1, lines.join('\n'));
    assert.ok(lines.some((l) => /^canal: worker 1 failed to start 4 times in a row \(last: exit code 1\); giving up, stopping the other workers$/.test(l)), lines.join('\n'));
  });
});
