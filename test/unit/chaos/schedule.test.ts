/**
 * The chaos run's fault plan: drawn from the seed alone (a seed replays the same plan), every
 * kind in every run however short, faults only inside the fault window, targets that exist.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describePlanned, FAULT_KINDS, planFaults, tailMs, warmupMs, type PlanInput } from '../../../scripts/chaos/schedule.js';
import { seededRandom } from '../../helpers/random.js';

const INPUT: PlanInput = { lengthMs: 30_000, kinds: FAULT_KINDS, meanGapMs: 6000, nodes: 3, subscribers: 200, slowCandidates: 4, dropMax: 20 };

describe('planFaults', () => {
  it('draws the same plan from the same seed, and another from another seed', () => {
    assert.deepEqual(planFaults(seededRandom(42), INPUT), planFaults(seededRandom(42), INPUT));
    assert.notDeepEqual(planFaults(seededRandom(42), INPUT), planFaults(seededRandom(43), INPUT));
  });

  it('has every kind of fault in a 30-second run, whatever the seed', () => {
    for (let seed = 0; seed < 300; seed++) {
      const kinds = new Set(planFaults(seededRandom(seed), INPUT).map((f) => f.kind));
      assert.deepEqual([...kinds].sort(), [...FAULT_KINDS].sort(), `seed ${seed}`);
    }
  });

  it('starts faults only inside the window, in order, after the warm-up and before the tail', () => {
    for (const lengthMs of [10_000, 30_000, 600_000]) {
      const plan = planFaults(seededRandom(7), { ...INPUT, lengthMs });
      const times = plan.map((f) => f.at);
      assert.deepEqual(times, [...times].sort((a, b) => a - b));
      assert.ok(times[0]! >= warmupMs(lengthMs), `${lengthMs}: first at ${times[0]}`);
      assert.ok(times.at(-1)! <= lengthMs - tailMs(lengthMs), `${lengthMs}: last at ${times.at(-1)}`);
    }
  });

  it('plans about one fault per mean gap in a long run', () => {
    const plan = planFaults(seededRandom(1), { ...INPUT, lengthMs: 600_000 });
    const window = 600_000 - warmupMs(600_000) - tailMs(600_000);
    assert.equal(plan.length, Math.floor(window / INPUT.meanGapMs));
  });

  it('deals the kinds in rounds: each kind once before any kind twice', () => {
    const plan = planFaults(seededRandom(5), { ...INPUT, lengthMs: 600_000 });
    for (let i = 0; i + FAULT_KINDS.length <= plan.length; i += FAULT_KINDS.length) {
      assert.equal(new Set(plan.slice(i, i + FAULT_KINDS.length).map((f) => f.kind)).size, FAULT_KINDS.length, `round at ${i}`);
    }
  });

  it('plans only the kinds asked for', () => {
    const plan = planFaults(seededRandom(3), { ...INPUT, kinds: ['drop', 'raw-flood'] });
    assert.ok(plan.length >= 2);
    assert.deepEqual([...new Set(plan.map((f) => f.kind))].sort(), ['drop', 'raw-flood']);
    assert.deepEqual(planFaults(seededRandom(3), { ...INPUT, kinds: [] }), []);
  });

  it('aims every fault at something that exists, within its bounds', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const f of planFaults(seededRandom(seed), { ...INPUT, lengthMs: 120_000 })) {
        switch (f.kind) {
          case 'drop':
            assert.ok(f.subscribers.length >= 1 && f.subscribers.length <= INPUT.dropMax);
            assert.equal(new Set(f.subscribers).size, f.subscribers.length, 'distinct subscribers');
            assert.ok(f.subscribers.every((i) => i >= 0 && i < INPUT.subscribers));
            break;
          case 'kill-node':
          case 'raw-flood':
            assert.ok(f.node >= 0 && f.node < INPUT.nodes);
            break;
          case 'slow-consumer':
            assert.ok(f.candidate >= 0 && f.candidate < INPUT.slowCandidates);
            assert.ok(f.stopMs >= 3000 && f.stopMs <= 8000);
            break;
          case 'pause-redis':
            assert.ok(f.sleepMs >= 500 && f.sleepMs <= 2500);
            break;
          case 'restart-redis':
            assert.ok(f.downMs >= 200 && f.downMs <= 2000);
            break;
        }
      }
    }
  });
});

describe('describePlanned', () => {
  it('says when, what and to what, in one line', () => {
    assert.equal(describePlanned({ at: 12_345, kind: 'kill-node', node: 1, downMs: 1400 }), '  12.3 s  kill-node     node 2, down 1.4 s');
    assert.equal(describePlanned({ at: 500, kind: 'drop', subscribers: [3] }), '   0.5 s  drop          1 subscriber (#3)');
  });
});
