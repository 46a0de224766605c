/**
 * The memory benchmark's verdict on a goal (bench/memory/report.ts): met or not against the
 * limit, and no verdict when the A/A control — two identical servers — differs by more than the
 * goal allows, as Node's idle RSS can when V8 shrinks one process's young generation only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goalVerdict } from '../../../bench/memory/report.js';

describe('goalVerdict', () => {
  it('says met at or under the limit and NOT MET over it, with quiet controls or none', () => {
    assert.equal(goalVerdict(384, 1024, 4), 'met');
    assert.equal(goalVerdict(1024, 1024, -277), 'met');
    assert.equal(goalVerdict(1025, 1024, 1), 'NOT MET');
    assert.equal(goalVerdict(-976, 1024), 'met');
    assert.equal(goalVerdict(3976, 1024), 'NOT MET');
  });

  it('cannot tell when the A/A difference alone is past the limit, either way, and says how large it was', () => {
    assert.equal(goalVerdict(3976, 1024, 3542), 'CANNOT TELL (A/A +3,542)');
    assert.equal(goalVerdict(94, 1024, -1100), 'CANNOT TELL (A/A -1,100)');
    assert.equal(goalVerdict(94, 1024, 1024), 'met');
  });
});
