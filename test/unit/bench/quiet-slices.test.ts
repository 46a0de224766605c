/**
 * The quiet-slice rule (bench/lib/quiet-slices.ts) and the interleaved rounds built on it
 * (bench/lib/rounds.ts): which slices count for a median, which rounds count for a ratio, when a
 * verdict cannot be given, and when rounds are added. Every published ratio rests on these.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CpuShares } from '../../../bench/lib/cpu.js';
import { countedSlices, DISTURBED_CPU, isQuiet, pairedRatios, quietCount, verdict, type Round } from '../../../bench/lib/quiet-slices.js';
import { rotation, runRounds } from '../../../bench/lib/rounds.js';

const cpu = (other: number, steal = 0): CpuShares => ({ server: 1, generator: 0.6, other, steal });

interface TestSlice {
  readonly target: string;
  readonly phase: string;
  readonly quiet: boolean;
  readonly value: number;
}

const slice = (target: string, value: number, quiet = true, phase = 'p'): TestSlice => ({ target, phase, quiet, value });
const round = (...slices: TestSlice[]): Round<TestSlice> => new Map(slices.map((s) => [s.target, s]));
const value = (s: TestSlice): number => s.value;

describe('isQuiet', () => {
  it('counts a slice as quiet up to a quarter of a CPU of other work, included', () => {
    assert.equal(DISTURBED_CPU, 0.25);
    assert.equal(isQuiet(cpu(0)), true);
    assert.equal(isQuiet(cpu(0.25)), true);
    assert.equal(isQuiet(cpu(0.26)), false);
  });

  it('adds the hypervisor\'s steal to other work', () => {
    assert.equal(isQuiet(cpu(0.15, 0.1)), true);
    assert.equal(isQuiet(cpu(0.15, 0.11)), false);
    assert.equal(isQuiet(cpu(0, 0.3)), false);
  });

  it('does not count the server\'s or the generator\'s own CPU against the slice', () => {
    assert.equal(isQuiet({ server: 1, generator: 1, other: 0, steal: 0 }), true);
  });
});

describe('countedSlices and quietCount', () => {
  it('keeps only the quiet slices of a target when it has any', () => {
    const rounds = [round(slice('a', 1)), round(slice('a', 100, false)), round(slice('a', 3))];
    assert.deepEqual(countedSlices(rounds, 'a').map(value), [1, 3]);
    assert.equal(quietCount(rounds, 'a'), 2);
  });

  it('keeps every slice when none was quiet, so a report can still show (and flag) them', () => {
    const rounds = [round(slice('a', 1, false)), round(slice('a', 2, false))];
    assert.deepEqual(countedSlices(rounds, 'a').map(value), [1, 2]);
    assert.equal(quietCount(rounds, 'a'), 0);
  });

  it('skips rounds the target did not run in', () => {
    const rounds = [round(slice('b', 1)), round(slice('a', 2))];
    assert.deepEqual(countedSlices(rounds, 'a').map(value), [2]);
    assert.equal(quietCount(rounds, 'a'), 1);
  });
});

describe('pairedRatios', () => {
  it('pairs the two targets within each round where both slices were quiet', () => {
    const rounds = [
      round(slice('n', 20), slice('d', 10)),
      round(slice('n', 90, false), slice('d', 10)),
      round(slice('n', 30), slice('d', 90, false)),
      round(slice('n', 15), slice('d', 10)),
    ];
    assert.deepEqual(pairedRatios(rounds, 'n', 'd', value), { values: [2, 1.5], quiet: true });
  });

  it('falls back to every round where both ran, marked not quiet, when no pair was quiet', () => {
    const rounds = [round(slice('n', 20, false), slice('d', 10)), round(slice('n', 30), slice('d', 10, false)), round(slice('n', 5))];
    assert.deepEqual(pairedRatios(rounds, 'n', 'd', value), { values: [2, 3], quiet: false });
  });

  it('has no value and is not quiet when the two never ran in the same round', () => {
    assert.deepEqual(pairedRatios([round(slice('n', 1)), round(slice('d', 1))], 'n', 'd', value), { values: [], quiet: false });
  });
});

describe('verdict', () => {
  it('judges only on quiet pairs, and says it cannot tell otherwise', () => {
    const quiet = { values: [1], quiet: true };
    const disturbed = { values: [1], quiet: false };
    assert.equal(verdict(true, quiet), 'met');
    assert.equal(verdict(false, quiet), 'NOT MET');
    assert.equal(verdict(true, quiet, disturbed), 'CANNOT TELL (no round with both slices quiet)');
  });
});

describe('rounds', () => {
  it('rotates who goes first from one round to the next', () => {
    assert.deepEqual([1, 2, 3, 4].map((r) => rotation(['a', 'b', 'c'], r).join('')), ['abc', 'bca', 'cab', 'abc']);
  });

  it('stops once every target has the quiet slices asked for, in every phase', async () => {
    const order: string[] = [];
    const rounds = await runRounds<TestSlice>({
      targets: ['a', 'b'],
      phases: ['x', 'y'],
      wanted: 2,
      maxRounds: 10,
      measure: async (target, r) => {
        order.push(`${r}${target}`);
        return [slice(target, r, true, 'x'), slice(target, r, true, 'y')];
      },
    });
    assert.deepEqual(order, ['1a', '1b', '2b', '2a']);
    assert.equal(rounds.get('x')!.length, 2);
    assert.deepEqual(rounds.get('y')!.map((r) => r.get('b')!.value), [1, 2]);
  });

  it('adds rounds while a target has too few quiet slices, up to the bound', async () => {
    const disturbedFor = (target: string, r: number): boolean => target === 'b' && r <= 2;
    const seen: number[] = [];
    const rounds = await runRounds<TestSlice>({
      targets: ['a', 'b'],
      phases: ['p'],
      wanted: 2,
      maxRounds: 10,
      measure: async (target, r) => [slice(target, r, !disturbedFor(target, r))],
      onRound: (_round, index) => seen.push(index),
    });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.equal(quietCount(rounds.get('p')!, 'b'), 2);

    const bounded = await runRounds<TestSlice>({
      targets: ['a'],
      phases: ['p'],
      wanted: 5,
      maxRounds: 3,
      measure: async (target) => [slice(target, 1, false)],
    });
    assert.equal(bounded.get('p')!.length, 3);
  });
});
