/**
 * Who may do what in a channel by its namespace's options alone (src/auth/channel-rights.ts):
 * the `allow_*_for_*` options, user-limited `#` channels (their listed users only) and personal
 * channels (their user only), and anonymous connections, which no `#` channel lists.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedByNamespace, PLAIN_CLIENT, requireListedUser, requireRight, userLimitedAccess, type ChannelAction } from '../../../src/auth/channel-rights.js';
import { NAMESPACE_DEFAULTS, type NamespaceOptions } from '../../../src/config/namespaces.js';
import { ErrorCode } from '../../../src/protocol/codes.js';
import { ReplyError } from '../../../src/protocol/errors.js';

const ns = (options: Partial<NamespaceOptions>): NamespaceOptions => ({ ...NAMESPACE_DEFAULTS, ...options });

/** Every right a client can be given, for the namespaces that open everything to everyone. */
const OPEN: Partial<NamespaceOptions> = {
  allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true,
  allow_publish_for_client: true, allow_publish_for_anonymous: true, allow_publish_for_subscriber: true,
  allow_history_for_client: true, allow_history_for_anonymous: true, allow_history_for_subscriber: true,
  allow_presence_for_client: true, allow_presence_for_anonymous: true, allow_presence_for_subscriber: true,
};

const ACTIONS: readonly ChannelAction[] = ['subscribe', 'publish', 'history', 'presence'];

/** Whether `fn` throws 103 permission denied whose message matches `message`. */
function deniedWith(message: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ReplyError && err.code === ErrorCode.PermissionDenied && message.test(err.message);
}

describe('allowedByNamespace', () => {
  it('refuses every action when the namespace allows nothing (the defaults outside dev)', () => {
    const closed = ns({});
    for (const action of ACTIONS) {
      assert.equal(allowedByNamespace(closed, action, { user: 'alice', subscribed: false }), false, `${action} by alice`);
      assert.equal(allowedByNamespace(closed, action, { user: '', subscribed: true }), false, `${action} by an anonymous subscriber`);
    }
  });

  it('reads the _for_client option for a connection with a user and _for_anonymous for one without', () => {
    const clientsOnly = ns({ allow_subscribe_for_client: true, allow_publish_for_client: true, allow_history_for_client: true, allow_presence_for_client: true });
    for (const action of ACTIONS) {
      assert.equal(allowedByNamespace(clientsOnly, action, { user: 'alice', subscribed: false }), true, `${action} by alice`);
      assert.equal(allowedByNamespace(clientsOnly, action, { user: '', subscribed: false }), false, `${action} by an anonymous connection`);
    }
    const anonymousOnly = ns({ allow_subscribe_for_anonymous: true, allow_publish_for_anonymous: true, allow_history_for_anonymous: true, allow_presence_for_anonymous: true });
    for (const action of ACTIONS) {
      assert.equal(allowedByNamespace(anonymousOnly, action, { user: '', subscribed: false }), true, `${action} by an anonymous connection`);
      assert.equal(allowedByNamespace(anonymousOnly, action, { user: 'alice', subscribed: false }), false, `${action} by alice`);
    }
  });

  it('gives publish, history and presence to subscribers with _for_subscriber, never subscribe', () => {
    const subscribers = ns({ allow_publish_for_subscriber: true, allow_history_for_subscriber: true, allow_presence_for_subscriber: true });
    for (const action of ['publish', 'history', 'presence'] as const) {
      assert.equal(allowedByNamespace(subscribers, action, { user: 'alice', subscribed: true }), true, `${action} by a subscriber`);
      assert.equal(allowedByNamespace(subscribers, action, { user: '', subscribed: true }), true, `${action} by an anonymous subscriber`);
      assert.equal(allowedByNamespace(subscribers, action, { user: 'alice', subscribed: false }), false, `${action} by a non-subscriber`);
    }
    assert.equal(allowedByNamespace(subscribers, 'subscribe', { user: 'alice', subscribed: true }), false);
  });

  it('treats a plain /raw/ client as an anonymous subscriber of its channel', () => {
    assert.equal(allowedByNamespace(ns({ allow_publish_for_subscriber: true }), 'publish', PLAIN_CLIENT), true);
    assert.equal(allowedByNamespace(ns({ allow_publish_for_client: true }), 'publish', PLAIN_CLIENT), false);
  });
});

describe('requireRight', () => {
  it('throws 103 naming the channel and what is missing', () => {
    const closed = ns({});
    assert.throws(() => requireRight(closed, 'chat:a', 'subscribe', { user: '', subscribed: false }), deniedWith(/^permission denied: namespace of chat:a does not allow anonymous subscribers$/));
    assert.throws(() => requireRight(closed, 'chat:a', 'subscribe', { user: 'alice', subscribed: false }), deniedWith(/^permission denied: subscribing to chat:a needs a subscription token$/));
    assert.throws(() => requireRight(closed, 'chat:a', 'publish', { user: 'alice', subscribed: true }), deniedWith(/^permission denied: clients may not publish to chat:a$/));
    assert.throws(() => requireRight(closed, 'chat:a', 'history', { user: 'alice', subscribed: true }), deniedWith(/^permission denied: clients may not read the history of chat:a$/));
    assert.throws(() => requireRight(closed, 'chat:a', 'presence', { user: 'alice', subscribed: true }), deniedWith(/^permission denied: clients may not read the presence of chat:a$/));
  });

  it('returns quietly when the namespace allows the action', () => {
    requireRight(ns(OPEN), 'chat:a', 'publish', { user: 'alice', subscribed: false });
  });
});

describe('userLimitedAccess: user-limited # channels', () => {
  const dialog = ns({ ...OPEN, allow_user_limited_channels: true });

  it('lets only the users listed after the last # in, whatever else the namespace allows', () => {
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,bob', 'alice'), true);
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,bob', 'bob'), true);
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,bob', 'mallory'), false);
    assert.equal(userLimitedAccess(dialog, 'dialog:room#2#alice', 'alice'), true, 'the users follow the last #');
    assert.equal(userLimitedAccess(dialog, 'dialog:room#2#alice', '2'), false);
  });

  it('matches user names exactly: no prefix, no empty name', () => {
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,bob', 'ali'), false);
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,bob', 'alice,bob'), false);
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,', ''), false);
  });

  it('never lets an anonymous connection in', () => {
    assert.equal(userLimitedAccess(dialog, 'dialog:#alice,bob', ''), false);
    assert.equal(userLimitedAccess(dialog, 'dialog:#', ''), false);
  });

  it('says nothing (undefined) of a channel without # or a namespace without user-limited channels', () => {
    assert.equal(userLimitedAccess(dialog, 'dialog:lobby', 'alice'), undefined);
    assert.equal(userLimitedAccess(ns(OPEN), 'chat:#alice', 'bob'), undefined);
  });
});

describe('userLimitedAccess: personal channels', () => {
  const personal = ns({ ...OPEN, user_personal_channel: true });

  it('makes a user\'s personal channel that user\'s only, without allow_user_limited_channels', () => {
    assert.equal(personal.allow_user_limited_channels, false);
    assert.equal(userLimitedAccess(personal, 'personal:#alice', 'alice'), true);
    assert.equal(userLimitedAccess(personal, 'personal:#alice', 'bob'), false);
    assert.equal(userLimitedAccess(personal, '#alice', 'bob'), false, 'in the default namespace too');
    assert.equal(userLimitedAccess(personal, 'personal:#alice', ''), false);
  });

  it('leaves the namespace\'s channels without # to its other options', () => {
    assert.equal(userLimitedAccess(personal, 'personal:news', 'bob'), undefined);
  });
});

describe('requireListedUser', () => {
  const personal = ns({ ...OPEN, user_personal_channel: true });
  const dialog = ns({ ...OPEN, allow_user_limited_channels: true });

  it('refuses another user publish, history and presence in alice\'s personal channel with 103, even where every allow_* option is on', () => {
    for (const action of ['publish', 'history', 'presence'] as const) {
      assert.equal(allowedByNamespace(personal, action, { user: 'bob', subscribed: false }), true, `the namespace alone would let bob ${action}`);
    }
    assert.throws(() => requireListedUser(personal, 'personal:#alice', { user: 'bob', subscribed: false }),
      deniedWith(/^permission denied: personal:#alice is limited to the users listed after its last "#"$/));
    assert.throws(() => requireListedUser(personal, 'personal:#alice', { user: '', subscribed: false }), deniedWith(/limited to the users/));
  });

  it('lets alice into her own personal channel, and the users of a dialog into it', () => {
    requireListedUser(personal, 'personal:#alice', { user: 'alice', subscribed: false });
    requireListedUser(dialog, 'dialog:#alice,bob', { user: 'bob', subscribed: false });
  });

  it('refuses a user a dialog does not list, and lets a subscriber in (only the backend can have subscribed it)', () => {
    assert.throws(() => requireListedUser(dialog, 'dialog:#alice,bob', { user: 'mallory', subscribed: false }), deniedWith(/limited to the users/));
    requireListedUser(dialog, 'dialog:#alice,bob', { user: 'mallory', subscribed: true });
  });

  it('leaves channels that are not user-limited to the other rules', () => {
    requireListedUser(ns({}), 'chat:#alice', { user: 'bob', subscribed: false });
    requireListedUser(dialog, 'dialog:lobby', { user: '', subscribed: false });
  });
});
