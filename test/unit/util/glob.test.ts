import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globMatcher } from '../../../src/util/glob.js';
import { seededRandom } from '../../helpers/random.js';

/** The meaning of a glob as a regular expression, for comparison on small inputs only. */
function reference(pattern: string, name: string): boolean {
  const re = new RegExp(`^${Array.from(pattern).map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 'su');
  return re.test(name);
}

describe('globMatcher', () => {
  it('matches * as any run of characters and ? as exactly one', () => {
    const cases: Array<[string, string, boolean]> = [
      ['chat:*', 'chat:lobby', true], ['chat:*', 'chat:', true], ['chat:*', 'news:x', false],
      ['*:lobby', 'chat:lobby', true], ['c?at:*', 'chat:x', true], ['c?at:*', 'cat:x', false],
      ['*', '', true], ['', '', true], ['', 'a', false], ['a*b*c', 'abc', true], ['a*b*c', 'acb', false],
      ['*ab*ab', 'abab', true], ['*ab*ab', 'aab', false], ['?', 'é', true], ['??', 'é', false], ['x.y', 'xzy', false],
    ];
    for (const [pattern, name, expected] of cases) assert.equal(globMatcher(pattern)(name), expected, `${pattern} ~ ${name}`);
  });

  it('agrees with a regular expression on 20,000 random patterns and names (seed 13)', () => {
    const random = seededRandom(13);
    const pick = (chars: string, n: number): string => Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = pick('ab*?', Math.floor(random() * 7));
      const name = pick('ab', Math.floor(random() * 8));
      assert.equal(globMatcher(pattern)(name), reference(pattern, name), `${JSON.stringify(pattern)} ~ ${JSON.stringify(name)}`);
    }
  });

  it('answers the patterns that make a backtracking matcher exponential in one pass', () => {
    const name = `game:${'a'.repeat(250)}`;
    assert.equal(globMatcher('*a*a*a*a*a*a*a*a*a*a*b')(name), false);
    assert.equal(globMatcher(`*${'?*'.repeat(200)}b`)(name), false);
    assert.equal(globMatcher('*a*a*a*a*a*a*a*a*a*a*')(name), true);
  });
});
