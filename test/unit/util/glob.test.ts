import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globMatcher } from '../../../src/util/glob.js';

describe('globMatcher', () => {
  it('matches * and ? like a shell glob', () => {
    assert.equal(globMatcher('chat:*')('chat:lobby'), true);
    assert.equal(globMatcher('chat:?')('chat:ab'), false);
    assert.equal(globMatcher('*a*b')('xxaxxb'), true);
    assert.equal(globMatcher('a*')('b'), false);
    assert.equal(globMatcher('*')(''), true);
  });

  it('answers a pattern that backtracks exponentially as a regular expression quickly (issue 13 item 3)', () => {
    const started = performance.now();
    assert.equal(globMatcher('*a*a*a*a*a*a*b')(`game:${'a'.repeat(250)}`), false);
    assert.ok(performance.now() - started < 50, `took ${performance.now() - started} ms`);
  });
});
