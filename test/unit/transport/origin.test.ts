/**
 * Origin patterns: `*` runs, `null`, case, and no backtracking on an Origin the client chose
 * (a regular expression built from `http://*a*a*a*a*a*a*b` takes minutes on a long header).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { originChecker } from '../../../src/transport/origin.js';

describe('originChecker', () => {
  it('allows any origin when there are no patterns, and always a request without an Origin header', () => {
    assert.equal(originChecker([])('https://evil.example'), true);
    assert.equal(originChecker(['https://example.com'])(undefined), true);
  });

  it('matches * as any run of characters, exact text otherwise, without regard to case', () => {
    const allowed = originChecker(['https://*.example.com', 'http://localhost:*', 'null']);
    assert.equal(allowed('https://app.example.com'), true);
    assert.equal(allowed('HTTPS://App.Example.COM'), true);
    assert.equal(allowed('https://example.com'), false);
    assert.equal(allowed('https://app.example.com.evil.net'), false);
    assert.equal(allowed('http://localhost:5173'), true);
    assert.equal(allowed('http://localhost'), false);
    assert.equal(allowed('null'), true);
    assert.equal(allowed('https://a.example.co'), false);
    assert.equal(originChecker(['https://example.com'])('https://example.com.'), false, 'dots are not wildcards');
  });

  it('answers at once for a long Origin against a pattern of many stars', () => {
    const allowed = originChecker(['http://*a*a*a*a*a*a*a*b']);
    assert.equal(allowed(`http://${'a'.repeat(20_000)}`), false);
    assert.equal(allowed(`http://${'a'.repeat(20_000)}b`), true);
  });
});
