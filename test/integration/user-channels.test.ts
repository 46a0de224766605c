/**
 * User channels and per-user connection limits across nodes (issue 14, items 2 and 3): canal
 * nodes as real processes on the shared Redis (one key prefix per pair), official centrifuge
 * clients, two users. A `#` channel is its listed users' only; every connection of a user is
 * subscribed to its personal channel, which the server API reaches on every node;
 * user_connection_limit counts a user's connections on every node; single_connection closes a
 * user's older connection, wherever it is, with 3504.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Centrifuge } from 'centrifuge';
import { collect, newClient, once, subscribe, userToken } from '../helpers/centrifuge.js';
import { startNodes, type CanalProcess } from '../helpers/nodes.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { HMAC_SECRET } from '../helpers/tokens.js';

const CONFIG = {
  namespaces: {
    dialog: { allow_user_limited_channels: true, allow_publish_for_subscriber: true, history_size: 10, history_ttl: '1m' },
    // No allow_user_limited_channels: a personal channel is its user's alone by itself, even
    // where the namespace lets any client subscribe and read history.
    personal: { user_personal_channel: true, allow_subscribe_for_client: true, allow_history_for_client: true, history_size: 10, history_ttl: '1m' },
  },
};

/** Two nodes of one cluster with `flags`, stopped (and their keys removed) after the suite. */
function pairOfNodes(flags: readonly string[]): () => [CanalProcess, CanalProcess] {
  const prefix = testPrefix();
  let nodes: CanalProcess[] = [];
  let failure: Error | undefined;
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canal-users-'));
    const config = join(dir, 'canal.json');
    writeFileSync(config, JSON.stringify(CONFIG));
    try {
      nodes = await startNodes(2, { prefix, args: ['--config', config, '--token-hmac-secret', HMAC_SECRET, '--log-level', 'warn', ...flags] });
    } catch (err) {
      failure = err as Error;
    }
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });
  return () => {
    if (failure) throw failure;
    return [nodes[0]!, nodes[1]!];
  };
}

/** A client of `node` with a token for `user`, connected; resolves with it and its connect event. */
async function connectAs(t: TestContext, node: CanalProcess, user: string): Promise<Centrifuge> {
  const client = newClient(t, node.protocolUrl, { token: await userToken(user) });
  const connected = once(client, 'connected');
  client.connect();
  await connected;
  return client;
}

describe('user-limited and personal channels across two nodes', () => {
  const nodes = pairOfNodes([]);

  it('lets only the users listed after # subscribe to a dialog, and delivers between them across nodes', async (t) => {
    const [n1, n2] = nodes();
    const channel = `dialog:${Date.now()}#alice,bob`;
    const alice = await connectAs(t, n1, 'alice');
    const bob = await connectAs(t, n2, 'bob');
    const mallory = await connectAs(t, n2, 'mallory');
    const aliceSub = await subscribe(alice, channel);
    const bobSub = await subscribe(bob, channel);
    const denied = mallory.newSubscription(channel);
    const refused = once(denied, 'unsubscribed');
    denied.subscribe();
    assert.equal((await refused).code, 103);
    const got = collect(bobSub, 'publication');
    await aliceSub.publish({ text: 'hi bob' });
    const [pub] = await got.waitFor(1);
    assert.deepEqual(pub!.data, { text: 'hi bob' });
    assert.equal(pub!.info?.user, 'alice');
  });

  it('subscribes every connection of a user to its personal channel, which the server API reaches on every node', async (t) => {
    const [n1, n2] = nodes();
    const user = `carol${Date.now()}`;
    const personal = `personal:#${user}`;
    const clients: Centrifuge[] = [];
    const subscribedEvents = [];
    for (const node of [n1, n2]) {
      const client = newClient(t, node.protocolUrl, { token: await userToken(user) });
      subscribedEvents.push(once(client, 'subscribed', 5000, (ctx) => ctx.channel === personal));
      client.connect();
      clients.push(client);
    }
    await Promise.all(subscribedEvents);
    const other = await connectAs(t, n1, `dave${Date.now()}`);
    const otherPubs = collect(other, 'publication');
    const got = clients.map((c) => collect(c, 'publication'));
    await n2.apiResult('publish', { channel: personal, data: { note: 'for carol only' } });
    for (const g of got) {
      const [pub] = await g.waitFor(1);
      assert.equal(pub!.channel, personal);
      assert.deepEqual(pub!.data, { note: 'for carol only' });
    }
    assert.deepEqual(otherPubs.items, []);
    const intruder = other.newSubscription(personal);
    const refused = once(intruder, 'unsubscribed');
    intruder.subscribe();
    assert.equal((await refused).code, 103, 'another user cannot subscribe to carol\'s personal channel');
    await assert.rejects(other.history(personal, { limit: 10 }), (err: { code: number }) => err.code === 103, 'nor read its history');
    await assert.rejects(other.publish(personal, { note: 'spoofed' }), (err: { code: number }) => err.code === 103, 'nor publish into it');
    const own = await clients[0]!.history(personal, { limit: 10 });
    assert.deepEqual(own.publications.map((p) => p.data), [{ note: 'for carol only' }], 'carol reads her own');
  });
});

describe('user_connection_limit across two nodes', () => {
  const nodes = pairOfNodes(['--user-connection-limit', '2']);

  it('refuses a user\'s third connection with 3504 wherever it lands, and takes one again once a place is free', async (t) => {
    const [n1, n2] = nodes();
    const user = `erin${Date.now()}`;
    const first = await connectAs(t, n1, user);
    await connectAs(t, n2, user);
    const third = newClient(t, n1.protocolUrl, { token: await userToken(user) });
    const refused = once(third, 'disconnected');
    third.connect();
    const ctx = await refused;
    assert.equal(ctx.code, 3504);
    assert.match(ctx.reason, /connection limit/);
    await connectAs(t, n2, `frank${Date.now()}`); // other users are not affected
    const gone = once(first, 'disconnected');
    first.disconnect();
    await gone;
    await connectAs(t, n1, user);
  });
});

describe('single_connection across two nodes', () => {
  const nodes = pairOfNodes(['--single-connection']);

  it('closes a user\'s older connection on the other node with 3504 when it connects again, and keeps the new one', async (t) => {
    const [n1, n2] = nodes();
    const user = `gina${Date.now()}`;
    const older = await connectAs(t, n1, user);
    const bystander = await connectAs(t, n1, `hank${Date.now()}`);
    const closed = once(older, 'disconnected', 5000);
    const newer = await connectAs(t, n2, user);
    const ctx = await closed;
    assert.equal(ctx.code, 3504);
    assert.match(ctx.reason, /single_connection/);
    assert.equal(newer.state, 'connected');
    assert.equal(bystander.state, 'connected');
  });
});
