/**
 * Namespace options: defaults, parsing of every option, problems named by their path
 * (`chat.history_size`), contradictions listed as sentences a person can act on, and dev mode's
 * built-in namespaces.
 */
import assert from 'node:assert/strict';
import { DELTA_TYPES } from '../../../src/protocol/delta.js';
import { describe, it } from 'node:test';
import {
  contradictions, devNamespaces, NAMESPACE_DEFAULTS, NAMESPACE_DOCS, namespaceMap, namespaceOptions, type NamespaceOptions,
} from '../../../src/config/namespaces.js';
import { NestedValueErrors, ValueError } from '../../../src/config/values.js';

type Problem = { path: string; message: string };

/** The problems a parser reports; fails if it accepts `raw`. */
function problemsOf(parse: (raw: unknown) => unknown, raw: unknown): Problem[] {
  try {
    parse(raw);
  } catch (err) {
    assert.ok(err instanceof NestedValueErrors, `expected NestedValueErrors, got ${String(err)}`);
    return err.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  return assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

const HISTORY_ON = { history_size: 10, history_ttl: '1m' };

const CONTRADICTION = {
  sizeWithoutTtl: 'history_size is set but history_ttl is 0: set how long publications are kept',
  ttlWithoutSize: 'history_ttl is set but history_size is 0: set how many publications are kept',
  recoveryWithoutHistory: 'recovery needs history: set history_size and history_ttl, or turn off force_recovery / recovery_mode "cache"',
  positioningWithoutHistory: 'force_positioning needs history: set history_size and history_ttl',
  presenceRightsWithoutPresence: 'presence is off, so allow_presence_for_* cannot be set: turn presence on',
  historyRightsWithoutHistory: 'history is off (history_size 0), so allow_history_for_* cannot be set',
} as const;

describe('NAMESPACE_DEFAULTS', () => {
  it('allows nothing and keeps nothing, so outside dev mode every right is opt-in', () => {
    assert.deepEqual({ ...NAMESPACE_DEFAULTS }, {
      allow_subscribe_for_client: false,
      allow_subscribe_for_anonymous: false,
      allow_publish_for_client: false,
      allow_publish_for_anonymous: false,
      allow_publish_for_subscriber: false,
      allow_history_for_client: false,
      allow_history_for_anonymous: false,
      allow_history_for_subscriber: false,
      allow_presence_for_client: false,
      allow_presence_for_anonymous: false,
      allow_presence_for_subscriber: false,
      history_size: 0,
      history_ttl: 0,
      history_meta_ttl: 30 * 24 * 3_600_000,
      force_recovery: false,
      force_positioning: false,
      recovery_mode: 'stream',
      presence: false,
      join_leave: false,
      allow_user_limited_channels: false,
      user_personal_channel: false,
      subscribe_proxy: undefined,
      publish_proxy: undefined,
      sub_refresh_proxy: undefined,
      allowed_delta_types: [],
    });
  });

  it('has no contradiction', () => {
    assert.deepEqual(contradictions(NAMESPACE_DEFAULTS), []);
  });

  it('documents every option with one sentence', () => {
    assert.deepEqual(Object.keys(NAMESPACE_DOCS).sort(), Object.keys(NAMESPACE_DEFAULTS).sort());
    for (const [key, doc] of Object.entries(NAMESPACE_DOCS)) assert.match(doc, /\.$/, key);
  });
});

describe('namespaceOptions (default_namespace)', () => {
  it('returns the defaults when given an empty object', () => {
    assert.deepEqual(namespaceOptions({}), NAMESPACE_DEFAULTS);
  });

  it('parses every option when each is set to a non-default value', () => {
    const parsed = namespaceOptions({
      allow_subscribe_for_client: true,
      allow_subscribe_for_anonymous: 'yes',
      allow_publish_for_client: 'on',
      allow_publish_for_anonymous: '1',
      allow_publish_for_subscriber: 'true',
      allow_history_for_client: true,
      allow_history_for_anonymous: true,
      allow_history_for_subscriber: true,
      allow_presence_for_client: true,
      allow_presence_for_anonymous: true,
      allow_presence_for_subscriber: true,
      history_size: '50',
      history_ttl: '5m',
      history_meta_ttl: '1h',
      force_recovery: true,
      force_positioning: true,
      recovery_mode: 'cache',
      presence: true,
      join_leave: true,
      allow_user_limited_channels: true,
      user_personal_channel: true,
      subscribe_proxy: 'sub',
      publish_proxy: 'pub',
      sub_refresh_proxy: 'refresh-sub',
      allowed_delta_types: ['fossil'],
    });
    const expected: NamespaceOptions = {
      allow_subscribe_for_client: true,
      allow_subscribe_for_anonymous: true,
      allow_publish_for_client: true,
      allow_publish_for_anonymous: true,
      allow_publish_for_subscriber: true,
      allow_history_for_client: true,
      allow_history_for_anonymous: true,
      allow_history_for_subscriber: true,
      allow_presence_for_client: true,
      allow_presence_for_anonymous: true,
      allow_presence_for_subscriber: true,
      history_size: 50,
      history_ttl: 300_000,
      history_meta_ttl: 3_600_000,
      force_recovery: true,
      force_positioning: true,
      recovery_mode: 'cache',
      presence: true,
      join_leave: true,
      allow_user_limited_channels: true,
      user_personal_channel: true,
      subscribe_proxy: 'sub',
      publish_proxy: 'pub',
      sub_refresh_proxy: 'refresh-sub',
      allowed_delta_types: ['fossil'],
    };
    assert.deepEqual(parsed, expected);
  });

  it('accepts exactly the delta types the protocol core can make', () => {
    for (const type of DELTA_TYPES) assert.deepEqual(namespaceOptions({ allowed_delta_types: [type] }).allowed_delta_types, [type]);
    assert.deepEqual(namespaceOptions({ allowed_delta_types: 'fossil' }).allowed_delta_types, ['fossil'], 'comma-separated, as env and flags give it');
  });

  it('refuses a delta type canal does not know, naming the ones it does', () => {
    assert.throws(() => namespaceOptions({ allowed_delta_types: ['xdelta'] }), /allowed_delta_types: must be a list of one of "fossil"/);
  });

  it('refuses a history_meta_ttl shorter than history_ttl (the position must outlive the publications)', () => {
    assert.throws(() => namespaceOptions({ history_size: 1, history_ttl: '10m', history_meta_ttl: '1m' }), /history_meta_ttl is shorter than history_ttl/);
  });

  it('reads history_ttl as milliseconds when it is a bare number', () => {
    assert.equal(namespaceOptions({ history_size: 1, history_ttl: 1500 }).history_ttl, 1500);
  });

  it('names the option alone and the namespace as "(namespace)" in its problems', () => {
    assert.deepEqual(problemsOf(namespaceOptions, { history_size: 'lots' }), [
      { path: 'history_size', message: 'must be an integer from 0 to 1000000, got "lots"' },
    ]);
    assert.deepEqual(problemsOf(namespaceOptions, { history_size: 5 }), [
      { path: '(namespace)', message: CONTRADICTION.sizeWithoutTtl },
    ]);
  });

  it('refuses a value that is not an object', () => {
    for (const raw of [null, 5, 'chat', [], true]) {
      const problems = problemsOf(namespaceOptions, raw);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]!.path, '');
      assert.match(problems[0]!.message, /^must be an object of namespace options, got /);
    }
  });

  it('says what it accepts', () => {
    assert.equal(namespaceOptions.allowed, 'an object of namespace options');
  });
});

describe('namespaceMap (namespaces)', () => {
  it('gives each namespace the defaults for the options it does not set', () => {
    assert.deepEqual(namespaceMap({ chat: { allow_subscribe_for_client: true }, empty: {} }), {
      chat: { ...NAMESPACE_DEFAULTS, allow_subscribe_for_client: true },
      empty: { ...NAMESPACE_DEFAULTS },
    });
  });

  it('accepts an empty map', () => {
    assert.deepEqual(namespaceMap({}), {});
  });

  it('reports a bad value with its path, what is allowed and what it got', () => {
    const cases: Array<[Record<string, unknown>, Problem]> = [
      [{ history_size: -1 }, { path: 'chat.history_size', message: 'must be an integer from 0 to 1000000, got -1' }],
      [{ history_size: 1_000_001 }, { path: 'chat.history_size', message: 'must be an integer from 0 to 1000000, got 1000001' }],
      [{ history_size: 2.5 }, { path: 'chat.history_size', message: 'must be an integer from 0 to 1000000, got 2.5' }],
      [{ history_ttl: '5 days' }, { path: 'chat.history_ttl', message: 'must be a duration from 0s to 720h (e.g. 500ms, 25s, 10m, 1h; a bare number is milliseconds), got "5 days"' }],
      [{ presence: 'maybe' }, { path: 'chat.presence', message: 'must be true or false, got "maybe"' }],
      [{ allow_subscribe_for_client: 1 }, { path: 'chat.allow_subscribe_for_client', message: 'must be true or false, got 1' }],
      [{ recovery_mode: 'latest' }, { path: 'chat.recovery_mode', message: 'must be one of "stream", "cache", got "latest"' }],
      [{ join_leave: null }, { path: 'chat.join_leave', message: 'must be true or false, got null' }],
    ];
    for (const [options, problem] of cases) assert.deepEqual(problemsOf(namespaceMap, { chat: options }), [problem], JSON.stringify(options));
  });

  it('reports only the refused value, not a contradiction that the refusal caused, when the other half of a pair is set', () => {
    // history_size was refused, so it is not 0 for the person who wrote 1000001: "history_size is 0" would mislead.
    assert.deepEqual(problemsOf(namespaceMap, { chat: { history_size: 1_000_001, history_ttl: '1m' } }), [
      { path: 'chat.history_size', message: 'must be an integer from 0 to 1000000, got 1000001' },
    ]);
    assert.deepEqual(problemsOf(namespaceMap, { chat: { history_size: 10, history_ttl: '31d' } }), [
      { path: 'chat.history_ttl', message: 'must be a duration from 0s to 720h (e.g. 500ms, 25s, 10m, 1h; a bare number is milliseconds), got "31d"' },
    ]);
  });

  it('reports an unknown option with its path', () => {
    assert.deepEqual(problemsOf(namespaceMap, { chat: { histroy_size: 10 } }), [{ path: 'chat.histroy_size', message: 'is not a namespace option; did you mean "history_size"?' }]);
  });

  it('reports a namespace whose value is not an object', () => {
    assert.deepEqual(problemsOf(namespaceMap, { chat: 5, game: [] }), [
      { path: 'chat', message: 'must be an object of namespace options, got 5' },
      { path: 'game', message: 'must be an object of namespace options, got []' },
    ]);
  });

  it('refuses bad namespace names and accepts names of 1 to 64 of A-Z a-z 0-9 _ - .', () => {
    const message = 'is not a valid namespace name (1-64 of A-Z a-z 0-9 _ - .)';
    for (const name of ['', 'a b', 'chat:1', 'x'.repeat(65), '\u00f1and\u00fa', 'a/b', 'a#b']) {
      assert.deepEqual(problemsOf(namespaceMap, { [name]: {} }), [{ path: name, message }], JSON.stringify(name));
    }
    const good = namespaceMap({ ['x'.repeat(64)]: {}, 'a.b-c_D9': {}, '0': {} });
    assert.deepEqual(Object.keys(good).sort(), ['0', 'a.b-c_D9', 'x'.repeat(64)].sort());
  });

  it('keeps a namespace called __proto__ as its own entry, or refuses it, but never as the prototype of the map', () => {
    const raw = JSON.parse('{"__proto__":{"presence":true}}') as unknown;
    let parsed: Record<string, NamespaceOptions> | undefined;
    try {
      parsed = namespaceMap(raw);
    } catch (err) {
      assert.ok(err instanceof NestedValueErrors);
      return;
    }
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype, 'the namespace options became the prototype of the map');
    assert.ok(Object.hasOwn(parsed, '__proto__'), 'the namespace was dropped');
  });

  it('collects every problem of every namespace in one error', () => {
    const problems = problemsOf(namespaceMap, {
      'bad name': {},
      chat: { history_size: 'x', presence: 'x' },
      game: { nope: true },
      news: { history_size: 5 },
    });
    assert.deepEqual(problems, [
      { path: 'bad name', message: 'is not a valid namespace name (1-64 of A-Z a-z 0-9 _ - .)' },
      { path: 'chat.history_size', message: 'must be an integer from 0 to 1000000, got "x"' },
      { path: 'chat.presence', message: 'must be true or false, got "x"' },
      { path: 'game.nope', message: 'is not a namespace option' },
      { path: 'news', message: CONTRADICTION.sizeWithoutTtl },
    ]);
  });

  it('writes each problem as "path: message" in the error message', () => {
    assert.throws(() => namespaceMap({ chat: { history_size: -1 }, game: { x: 1 } }), {
      name: 'NestedValueErrors',
      message: 'chat.history_size: must be an integer from 0 to 1000000, got -1; game.x: is not a namespace option',
    });
  });

  it('refuses a value that is not an object with a ValueError that shows an example', () => {
    for (const raw of [null, 'chat', 5, [], true]) {
      assert.throws(() => namespaceMap(raw), (err: unknown) =>
        err instanceof ValueError && err.allowed === 'an object of namespace name -> options, e.g. {"chat": {"allow_subscribe_for_client": true}}');
    }
    assert.equal(namespaceMap.allowed, 'an object of namespace name -> options');
  });

  it('reports the contradictions of a namespace under its name', () => {
    assert.deepEqual(problemsOf(namespaceMap, { chat: { presence: false, allow_presence_for_client: true } }), [
      { path: 'chat', message: CONTRADICTION.presenceRightsWithoutPresence },
    ]);
  });
});

describe('contradictions', () => {
  const ns = (over: Partial<NamespaceOptions>): NamespaceOptions => ({ ...NAMESPACE_DEFAULTS, ...over });

  it('says history_ttl is missing when history_size is set without it', () => {
    assert.deepEqual(contradictions(ns({ history_size: 10 })), [CONTRADICTION.sizeWithoutTtl]);
  });

  it('says history_size is missing when history_ttl is set without it', () => {
    assert.deepEqual(contradictions(ns({ history_ttl: 60_000 })), [CONTRADICTION.ttlWithoutSize]);
  });

  it('says recovery needs history when force_recovery is on without history', () => {
    assert.deepEqual(contradictions(ns({ force_recovery: true })), [CONTRADICTION.recoveryWithoutHistory]);
  });

  it('says recovery needs history when recovery_mode is cache without history', () => {
    assert.deepEqual(contradictions(ns({ recovery_mode: 'cache' })), [CONTRADICTION.recoveryWithoutHistory]);
  });

  it('says positioning needs history when force_positioning is on without history', () => {
    assert.deepEqual(contradictions(ns({ force_positioning: true })), [CONTRADICTION.positioningWithoutHistory]);
  });

  it('says presence must be on when any allow_presence_for_* is set without it', () => {
    for (const key of ['allow_presence_for_client', 'allow_presence_for_anonymous', 'allow_presence_for_subscriber'] as const) {
      assert.deepEqual(contradictions(ns({ [key]: true })), [CONTRADICTION.presenceRightsWithoutPresence], key);
      assert.deepEqual(contradictions(ns({ [key]: true, presence: true })), [], `${key} with presence`);
    }
  });

  it('says history must be on when any allow_history_for_* is set without it', () => {
    for (const key of ['allow_history_for_client', 'allow_history_for_anonymous', 'allow_history_for_subscriber'] as const) {
      assert.deepEqual(contradictions(ns({ [key]: true })), [CONTRADICTION.historyRightsWithoutHistory], key);
      assert.deepEqual(contradictions(ns({ [key]: true, history_size: 1, history_ttl: 1000 })), [], `${key} with history`);
    }
  });

  it('lists every contradiction at once, in a fixed order', () => {
    assert.deepEqual(contradictions(ns({
      history_ttl: 1000, force_recovery: true, force_positioning: true, allow_presence_for_anonymous: true, allow_history_for_client: true,
    })), [
      CONTRADICTION.ttlWithoutSize,
      CONTRADICTION.recoveryWithoutHistory,
      CONTRADICTION.positioningWithoutHistory,
      CONTRADICTION.presenceRightsWithoutPresence,
      CONTRADICTION.historyRightsWithoutHistory,
    ]);
  });

  it('finds nothing wrong with a namespace that keeps history and uses every feature', () => {
    assert.deepEqual(contradictions(ns({
      history_size: 100, history_ttl: 600_000, force_recovery: true, force_positioning: true, recovery_mode: 'cache',
      presence: true, join_leave: true, allow_history_for_client: true, allow_presence_for_client: true,
    })), []);
  });

  it('accepts a namespace through namespaceMap exactly when it has no contradiction', () => {
    assert.deepEqual(namespaceMap({ chat: { ...HISTORY_ON, force_recovery: true } }).chat?.force_recovery, true);
  });
});

describe('devNamespaces', () => {
  it('makes chat an open room with history of 100 for 10 minutes, forced recovery, presence and join/leave', () => {
    assert.deepEqual(devNamespaces().chat, {
      ...NAMESPACE_DEFAULTS,
      allow_subscribe_for_client: true,
      allow_subscribe_for_anonymous: true,
      allow_publish_for_client: true,
      allow_publish_for_anonymous: true,
      history_size: 100,
      history_ttl: 600_000,
      force_recovery: true,
      presence: true,
      join_leave: true,
      allow_history_for_subscriber: true,
      allow_presence_for_subscriber: true,
    });
  });

  it('makes scores a latest-value channel in cache mode that clients may not publish to', () => {
    const scores = devNamespaces().scores!;
    assert.equal(scores.recovery_mode, 'cache');
    assert.equal(scores.force_recovery, true);
    assert.ok(scores.history_size >= 1 && scores.history_ttl > 0);
    assert.equal(scores.allow_subscribe_for_anonymous, true);
    assert.equal(scores.allow_publish_for_client || scores.allow_publish_for_anonymous || scores.allow_publish_for_subscriber, false);
  });

  it('makes game an open channel with presence and join/leave and no history', () => {
    const game = devNamespaces().game!;
    assert.deepEqual({ presence: game.presence, join_leave: game.join_leave, history_size: game.history_size },
      { presence: true, join_leave: true, history_size: 0 });
    assert.equal(game.allow_subscribe_for_anonymous, true);
    assert.equal(game.allow_publish_for_anonymous, false);
  });

  it('defines exactly chat, scores and game', () => {
    assert.deepEqual(Object.keys(devNamespaces()).sort(), ['chat', 'game', 'scores']);
  });

  it('has no contradiction in any dev namespace', () => {
    for (const [name, options] of Object.entries(devNamespaces())) assert.deepEqual(contradictions(options), [], name);
  });

  it('passes its own parser, so the dev namespaces could be written in a config file', () => {
    const dev = devNamespaces();
    assert.deepEqual(namespaceMap(JSON.parse(JSON.stringify(dev))), dev);
  });

  it('returns fresh objects, so one server changing its options cannot change another', () => {
    const a = devNamespaces();
    a.chat!.history_size = 1;
    assert.equal(devNamespaces().chat!.history_size, 100);
  });
});
