import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy, type RestartRules } from '../../../src/cli/restart-policy.js';

const RULES: RestartRules = { stableMs: 10_000, firstDelayMs: 500, maxDelayMs: 8000, maxFailures: 4 };

describe('RestartPolicy', () => {
  it('restarts at once a worker that had listened for stableMs or more before it died', () => {
    const policy = new RestartPolicy(RULES);
    assert.deepEqual(policy.onExit(1, { listenedAt: 0, exitedAt: 10_000 }), { action: 'restart', delayMs: 0, failures: 0 });
    assert.deepEqual(policy.onExit(1, { listenedAt: 20_000, exitedAt: 3_600_000 }), { action: 'restart', delayMs: 0, failures: 0 });
  });

  it('doubles the delay after each failed start in a row (never listened, or died within stableMs), then gives up at maxFailures', () => {
    const policy = new RestartPolicy(RULES);
    assert.deepEqual(policy.onExit(2, { listenedAt: 1000, exitedAt: 2000 }), { action: 'restart', delayMs: 500, failures: 1 });
    assert.deepEqual(policy.onExit(2, { listenedAt: undefined, exitedAt: 4000 }), { action: 'restart', delayMs: 1000, failures: 2 });
    assert.deepEqual(policy.onExit(2, { listenedAt: undefined, exitedAt: 6000 }), { action: 'restart', delayMs: 2000, failures: 3 });
    assert.deepEqual(policy.onExit(2, { listenedAt: undefined, exitedAt: 9000 }), { action: 'give-up', failures: 4 });
  });

  it('caps the delay at maxDelayMs', () => {
    const policy = new RestartPolicy({ ...RULES, maxFailures: 10 });
    const delays = Array.from({ length: 7 }, (_, i) => policy.onExit(1, { listenedAt: undefined, exitedAt: i }));
    assert.deepEqual(delays.map((d) => (d.action === 'restart' ? d.delayMs : d.action)), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('counts failures per slot, and forgets them once a worker of that slot has served for stableMs', () => {
    const policy = new RestartPolicy(RULES);
    policy.onExit(1, { listenedAt: undefined, exitedAt: 0 });
    policy.onExit(1, { listenedAt: undefined, exitedAt: 1 });
    assert.deepEqual(policy.onExit(2, { listenedAt: undefined, exitedAt: 2 }), { action: 'restart', delayMs: 500, failures: 1 }, 'slot 2 has its own count');
    assert.deepEqual(policy.onExit(1, { listenedAt: 10, exitedAt: 60_000 }), { action: 'restart', delayMs: 0, failures: 0 });
    assert.deepEqual(policy.onExit(1, { listenedAt: undefined, exitedAt: 60_001 }), { action: 'restart', delayMs: 500, failures: 1 });
  });
});
