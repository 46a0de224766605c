import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestName, didYouMean } from '../../../src/config/did-you-mean.js';

describe('closestName()', () => {
  const known = ['port', 'host', 'history_size', 'history_ttl'];

  it('finds the known name one or two edits away, ignoring case', () => {
    assert.equal(closestName('prot', known), 'port');
    assert.equal(closestName('HOSTS', known), 'host');
    assert.equal(closestName('history_sise', known), 'history_size');
  });

  it('finds nothing three edits or more away', () => {
    assert.equal(closestName('colour', known), undefined);
    assert.equal(closestName('histry_szie', known), undefined);
  });
});

describe('didYouMean()', () => {
  it('says the suggestion as a clause to append, or nothing', () => {
    assert.equal(didYouMean('prot', ['port']), '; did you mean "port"?');
    assert.equal(didYouMean('xyzzy', ['port']), '');
  });
});
