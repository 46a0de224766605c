import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from '../../../src/http/admin-throttle.js';

const T0 = 1_000_000;

describe('LoginThrottle', () => {
  it('lets an address with no wrong password try at once', () => {
    assert.equal(new LoginThrottle().retryAfter('10.0.0.1', T0), 0);
  });

  it('doubles the delay with each wrong password in a row, up to the maximum', () => {
    const throttle = new LoginThrottle({ baseDelayMs: 250, maxDelayMs: 2000 });
    const delays = [];
    let now = T0;
    for (let i = 0; i < 6; i++) {
      const delay = throttle.failed('a', now);
      delays.push(delay);
      now += delay;
    }
    assert.deepEqual(delays, [250, 500, 1000, 2000, 2000, 2000]);
  });

  it('refuses another try from the address until the delay is over, and only from that address', () => {
    const throttle = new LoginThrottle({ baseDelayMs: 250 });
    throttle.failed('a', T0);
    assert.equal(throttle.retryAfter('a', T0 + 100), 150);
    assert.equal(throttle.retryAfter('b', T0 + 100), 0);
    assert.equal(throttle.retryAfter('a', T0 + 250), 0);
  });

  it('forgets an address after a right password, and failures older than forgetAfterMs', () => {
    const throttle = new LoginThrottle({ baseDelayMs: 250, forgetAfterMs: 60_000 });
    throttle.failed('a', T0);
    throttle.failed('a', T0 + 1000);
    throttle.succeeded('a');
    assert.equal(throttle.failed('a', T0 + 2000), 250, 'counting starts over after a right password');
    assert.equal(throttle.failed('a', T0 + 2000 + 60_001), 250, 'and after a long pause');
  });

  it('remembers at most maxAddresses addresses, dropping the oldest', () => {
    const throttle = new LoginThrottle({ maxAddresses: 3 });
    for (const address of ['a', 'b', 'c', 'd']) throttle.failed(address, T0);
    assert.equal(throttle.size, 3);
    assert.equal(throttle.retryAfter('a', T0), 0, 'the oldest was dropped');
    assert.ok(throttle.retryAfter('d', T0) > 0);
  });
});
