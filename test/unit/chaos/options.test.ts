/** The chaos run's flags: defaults, bounds, and a message naming the flag for anything wrong. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INT_FLAGS, parseOptions, usage, UsageError } from '../../../scripts/chaos/options.js';
import { FAULT_KINDS } from '../../../scripts/chaos/schedule.js';

const parse = (...argv: string[]) => parseOptions(argv, () => 99);

describe('chaos options', () => {
  it('runs 2 minutes of every fault on 3 nodes and 200 subscribers with a drawn seed by default', () => {
    const o = parse()!;
    assert.equal(o.lengthMs, 120_000);
    assert.deepEqual([o.nodes, o.subscribers, o.seed, o.seedGiven], [3, 200, 99, false]);
    assert.deepEqual(o.faults, FAULT_KINDS);
  });

  it('takes --minutes, and --seconds over --minutes', () => {
    assert.equal(parse('--minutes', '10')!.lengthMs, 600_000);
    assert.equal(parse('--minutes', '10', '--seconds', '30')!.lengthMs, 30_000);
  });

  it('replays a given seed', () => {
    const o = parse('--seed', '1234')!;
    assert.deepEqual([o.seed, o.seedGiven], [1234, true]);
  });

  it('takes a list of fault kinds', () => {
    assert.deepEqual(parse('--faults', 'raw-flood, drop')!.faults, ['raw-flood', 'drop']);
  });

  it('names the flag and the range for a value out of bounds or not an integer', () => {
    assert.throws(() => parse('--seconds', '5'), new UsageError('--seconds: must be an integer from 10 to 7200, got "5"'));
    assert.throws(() => parse('--flood-messages', '1.5'), /--flood-messages: must be an integer/);
    assert.throws(() => parse('--nodes', ''), /--nodes: must be an integer from 2 to 6/);
  });

  it('refuses an unknown flag, an unknown fault kind, and more channels per subscriber than channels', () => {
    assert.throws(() => parse('--minute', '3'), UsageError);
    assert.throws(() => parse('--faults', 'drop,meteor'), /--faults: must be a comma-separated list of drop, kill-node/);
    assert.throws(() => parse('--channels', '2', '--channels-per-subscriber', '3'), /at most --channels \(2\)/);
  });

  it('answers --help with undefined, and the usage lists every flag', () => {
    assert.equal(parse('--help'), undefined);
    for (const name of Object.keys(INT_FLAGS)) assert.match(usage(), new RegExp(`--${name} N`));
    for (const name of ['faults', 'summary', 'log-dir']) assert.match(usage(), new RegExp(`--${name} `));
  });
});
