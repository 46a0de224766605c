/**
 * An embedding application with both in-process handlers and proxies, in the order docs/proxy.md
 * gives: the handler first, then the proxy; the proxy sees what the handler made of the data and
 * its answer wins where it gives a value; a handler that throws ends the call before the backend
 * is asked; RPC goes to the proxy only when there is no handler for it (104).
 *
 * @runtimes node bun
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/codes.js';
import { ReplyError } from '../../src/protocol/errors.js';
import { recordingBackend, type Seen } from '../helpers/http.js';
import { assertSubset, connectedClient } from '../helpers/protocol-client.js';
import { startServer } from '../helpers/server.js';

const answer = (value: (req: Seen) => unknown) => (req: Seen, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value(req)));
};
const body = (req: Seen): Record<string, any> => JSON.parse(req.body) as Record<string, any>;

describe('in-process handlers and proxies together', async () => {
  const backend = await recordingBackend({
    '/connect': answer(() => ({ result: { user: 'from-proxy', info: { by: 'proxy' }, channels: ['both:proxy-side'] } })),
    '/subscribe': answer(() => ({ result: { info: { by: 'proxy' } } })),
    '/publish': answer((req) => ({ result: { data: { text: String(body(req).data.text).toUpperCase(), seen: body(req).data } } })),
    '/rpc': answer((req) => ({ result: { data: { proxy: body(req).method } } })),
  });
  after(() => backend.server.close());
  const handled: string[] = [];
  const server = await startServer({
    proxies: {
      connect: { endpoint: `${backend.url}/connect` },
      rpc: { endpoint: `${backend.url}/rpc` },
      subs: { endpoint: `${backend.url}/subscribe` },
      pubs: { endpoint: `${backend.url}/publish` },
    },
    namespaces: { both: { subscribe_proxy: 'subs', publish_proxy: 'pubs', presence: true, allow_presence_for_subscriber: true } },
    onConnecting: (ctx) => {
      handled.push(`connect ${ctx.client}`);
      return { info: { by: 'handler' }, channels: ['both:handler-side'] };
    },
    onSubscribe: (ctx) => {
      handled.push(`subscribe ${ctx.channel}`);
      if (ctx.channel === 'both:closed') throw new ReplyError(ErrorCode.PermissionDenied, 'closed by the handler');
    },
    onPublish: (ctx) => ({ data: { text: `${(ctx.data as { text: string }).text}!` } }),
    onRpc: (ctx) => {
      if (ctx.method === 'local') return { local: true };
      throw new ReplyError(ErrorCode.MethodNotFound, 'method not found');
    },
  });
  const seen = (path: string): Seen[] => backend.seen.filter((s) => s.url === path);

  it('connects through the handler first, then the proxy, whose user and info win and whose channels are added', async () => {
    const c = await connectedClient(server.wsUrl);
    assert.ok(handled.includes(`connect ${c.clientId}`), 'the handler ran');
    assert.equal(seen('/connect').length >= 1, true, 'the proxy was asked');
    const subs = await c.call('presence', { channel: 'both:proxy-side' });
    assertSubset(subs.presence.presence, { [c.clientId]: { user: 'from-proxy', conn_info: { by: 'proxy' } } });
    const connect = (c.lines.map((l) => JSON.parse(l)).find((m) => m.connect) as { connect: { subs: Record<string, unknown> } }).connect;
    assert.deepEqual(Object.keys(connect.subs).sort(), ['both:handler-side', 'both:proxy-side']);
    c.close();
  });

  it('publishes what the handler made of the data, as the proxy then rewrote it', async () => {
    const c = await connectedClient(server.wsUrl);
    await c.subscribe('both:room');
    const reply = await c.call('publish', { channel: 'both:room', data: { text: 'hi' } });
    assert.ok(reply.publish, JSON.stringify(reply));
    const pub = await c.nextPush({ kind: 'pub', channel: 'both:room' });
    assert.deepEqual(pub.push.pub.data, { text: 'HI!', seen: { text: 'hi!' } });
    c.close();
  });

  it('never asks the backend when the handler refuses a subscription', async () => {
    const c = await connectedClient(server.wsUrl);
    const before = seen('/subscribe').length;
    const reply = await c.call('subscribe', { channel: 'both:closed' });
    assert.equal(reply.error?.code, ErrorCode.PermissionDenied, JSON.stringify(reply));
    assert.ok(handled.includes('subscribe both:closed'));
    assert.equal(seen('/subscribe').length, before, 'the subscribe proxy was not asked');
    await c.subscribe('both:open');
    assert.equal(seen('/subscribe').length, before + 1, 'the proxy is asked after a handler that lets it through');
    c.close();
  });

  it('answers RPC from the handler, and from the proxy only for what the handler does not know (104)', async () => {
    const c = await connectedClient(server.wsUrl);
    const before = seen('/rpc').length;
    assertSubset(await c.call('rpc', { method: 'local' }), { rpc: { data: { local: true } } });
    assert.equal(seen('/rpc').length, before, 'the rpc proxy was not asked for the handler\'s method');
    assertSubset(await c.call('rpc', { method: 'remote' }), { rpc: { data: { proxy: 'remote' } } });
    assert.equal(seen('/rpc').length, before + 1);
    c.close();
  });
});
