import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boolean, bytes, duration, formatDuration, host, integer, integerOr, list, oneOf, text, ValueError } from '../../../src/config/values.js';

function rejects(fn: () => unknown, allowed: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ValueError && allowed.test(err.allowed));
}

describe('integer()', () => {
  const port = integer(0, 65535);
  it('accepts numbers and decimal strings within range', () => {
    assert.equal(port(8765), 8765);
    assert.equal(port('8765'), 8765);
    assert.equal(port(' 0 '), 0);
  });
  it('rejects out of range, fractional and non-numeric values, saying the range', () => {
    for (const bad of [-1, 65536, 1.5, 'abc', '', '12a', null, true, '1e3']) rejects(() => port(bad), /integer from 0 to 65535/);
  });
});

describe('integerOr()', () => {
  const workers = integerOr('auto', 'one per CPU', 1, 1024);
  it('accepts the word, numbers and decimal strings within range', () => {
    assert.equal(workers('auto'), 'auto');
    assert.equal(workers(4), 4);
    assert.equal(workers('16'), 16);
  });
  it('rejects anything else, saying the range and the word with its meaning', () => {
    for (const bad of [0, '0', 1025, 'AUTO', 'all', '', 2.5, null]) rejects(() => workers(bad), /^an integer from 1 to 1024, or "auto" \(one per CPU\)$/);
  });
});

describe('bytes()', () => {
  const size = bytes(1, 256 * 1024 * 1024);
  it('accepts integers and sizes with a unit', () => {
    assert.equal(size(1024), 1024);
    assert.equal(size('1MiB'), 1048576);
    assert.equal(size('64KiB'), 65536);
    assert.equal(size('2MB'), 2_000_000);
    assert.equal(size('512'), 512);
  });
  it('rejects unknown units, zero and values past the maximum', () => {
    for (const bad of ['1XB', 0, '0', '1GiB', 'lots', -5]) rejects(() => size(bad), /byte count from 1/);
  });
});

describe('duration()', () => {
  const d = duration(1000, 3_600_000);
  it('reads ms, s, m and h, and bare numbers as milliseconds', () => {
    assert.equal(d('25s'), 25_000);
    assert.equal(d('1500ms'), 1500);
    assert.equal(d('10m'), 600_000);
    assert.equal(d('1h'), 3_600_000);
    assert.equal(d(2000), 2000);
    assert.equal(d('2000'), 2000);
    assert.equal(d('1.5s'), 1500);
  });
  it('rejects values outside the range and unknown units', () => {
    for (const bad of ['999ms', '2h', '5 days', 'soon', -1, null]) rejects(() => d(bad), /duration from 1s to 1h/);
  });
  it('formats durations the way it reads them', () => {
    assert.equal(formatDuration(25_000), '25s');
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(1500), '1500ms');
  });
});

describe('boolean', () => {
  it('reads booleans and their usual spellings', () => {
    for (const t of [true, 'true', '1', 'yes', 'on', 'TRUE']) assert.equal(boolean(t), true);
    for (const f of [false, 'false', '0', 'no', 'off']) assert.equal(boolean(f), false);
  });
  it('rejects anything else', () => {
    for (const bad of ['maybe', 2, null, '']) rejects(() => boolean(bad), /true or false/);
  });
});

describe('oneOf(), text(), host, list()', () => {
  it('oneOf accepts only the listed strings', () => {
    const level = oneOf(['info', 'debug']);
    assert.equal(level('debug'), 'debug');
    rejects(() => level('verbose'), /one of "info", "debug"/);
  });
  it('text checks its pattern', () => {
    const prefix = text('letters only', /^[a-z]+$/);
    assert.equal(prefix('abc'), 'abc');
    rejects(() => prefix('a b'), /letters only/);
  });
  it('host accepts names and addresses and rejects spaces and slashes', () => {
    for (const ok of ['127.0.0.1', '0.0.0.0', 'localhost', '::1', '::', 'my-host.example']) assert.equal(host(ok), ok);
    for (const bad of ['', 'a b', 'http://x', 'host/']) rejects(() => host(bad), /host name or IP address/);
  });
  it('list reads arrays and comma-separated strings', () => {
    const origins = list(text('an origin'));
    assert.deepEqual(origins('a, b,,c'), ['a', 'b', 'c']);
    assert.deepEqual(origins(['x']), ['x']);
    rejects(() => origins(5), /a list of/);
  });
});
