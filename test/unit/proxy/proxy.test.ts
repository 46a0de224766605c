/**
 * One proxy against a small HTTP backend in this process: the request canal sends (POST, JSON,
 * the headers it forwards), and every way the backend can fail — refused, slow past the timeout,
 * HTTP 500, not JSON, an answer cut short — each a temporary 100 for the client, one log line
 * naming the proxy and the cause, and no socket held (a failed call's socket is closed; only a
 * whole 200 answer, even an unreadable one, leaves its socket idle in the pool for reuse).
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { resolveProxies, type ProxyOptions } from '../../../src/config/proxies.js';
import { toWire } from '../../../src/protocol/errors.js';
import type { JsonText } from '../../../src/protocol/types.js';
import { ProxyError } from '../../../src/proxy/errors.js';
import { Proxies } from '../../../src/proxy/proxies.js';
import { recordingBackend as backend, type Seen } from '../../helpers/http.js';
import { captureLog } from '../../helpers/log-capture.js';
import { freePort } from '../../helpers/redis.js';
import { until } from '../../helpers/wait.js';

const json = (value: unknown) => (_req: Seen, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};

function proxiesFor(options: Record<string, Partial<ProxyOptions> & { endpoint: string }>, log = captureLog()): { proxies: Proxies; log: ReturnType<typeof captureLog> } {
  const full: Record<string, ProxyOptions> = {};
  for (const [name, o] of Object.entries(options)) {
    full[name] = { emulated_headers: [], static_headers: {}, binary_encoding: false, include_connection_meta: false, keep_alive: true, ...o };
  }
  const settings = resolveProxies({
    proxies: full, connect_proxy_endpoint: undefined, refresh_proxy_endpoint: undefined, rpc_proxy_endpoint: undefined,
    proxy_timeout: 300, proxy_http_headers: [], dev: false, demo_moderation_endpoint: undefined,
  });
  return { proxies: new Proxies(settings, log.logger), log };
}

const caller = { client: 'c-1', transport: 'websocket', protocol: 'json', user: 'alice' };

describe('Proxy', () => {
  let b: Awaited<ReturnType<typeof backend>>;
  let hang: Array<() => void> = [];
  before(async () => {
    b = await backend({
      '/rpc': json({ result: { data: { sum: 3 } } }),
      '/slow': (_req, res) => hang.push(() => res.writeHead(200).end('{}')),
      '/500': (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('boom'),
      '/garbage': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>'),
      '/cut': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"result":');
        res.socket?.destroy();
      },
    });
  });
  after(() => {
    for (const h of hang) h();
    b.server.closeAllConnections();
    b.server.close();
  });

  it('POSTs the event\'s JSON with the forwarded upgrade headers, the allowed emulated ones and the static ones', async () => {
    const { proxies } = proxiesFor({
      rpc: {
        endpoint: `${b.url}/rpc`, http_headers: ['Cookie', 'Authorization'], emulated_headers: ['X-Token'],
        static_headers: { 'X-Static': 's', Authorization: 'static-loses' },
      },
    });
    const headers = proxies.keepHeaders({ cookie: 'session=abc', authorization: 'Bearer t', 'user-agent': 'ua', 'x-token': 'not-from-upgrade' });
    assert.deepEqual(headers, { cookie: 'session=abc', authorization: 'Bearer t' }, 'only the headers a proxy forwards are kept');
    const emulated = proxies.keepEmulated({ 'X-Token': 'emulated', Cookie: 'emulated-cookie' });
    const data = await proxies.rpc!.rpc({ ...caller, headers, emulated }, 'sum', '[1,2]' as JsonText);
    assert.equal(data, '{"sum":3}');
    const req = b.seen.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.cookie, 'session=abc');
    assert.equal(req.headers.authorization, 'Bearer t', 'an upgrade header wins over a static one');
    assert.equal(req.headers['x-token'], 'emulated');
    assert.equal(req.headers['x-static'], 's');
    assert.equal(req.headers['user-agent'], undefined);
    assert.equal(req.body, '{"client":"c-1","transport":"websocket","protocol":"json","encoding":"json","user":"alice","method":"sum","data":[1,2]}');
    proxies.close();
  });

  it('keeps no header of a connection when no proxy forwards any', () => {
    const { proxies } = proxiesFor({ rpc: { endpoint: `${b.url}/rpc` } });
    assert.equal(proxies.keepHeaders({ cookie: 'x' }), undefined);
    assert.equal(Proxies.none().keepHeaders({ cookie: 'x' }), undefined);
  });

  it('reuses one kept-alive connection for calls in a row', async () => {
    const { proxies } = proxiesFor({ rpc: { endpoint: `${b.url}/rpc` } });
    for (let i = 0; i < 5; i++) await proxies.rpc!.rpc(caller, 'sum', undefined);
    assert.deepEqual(proxies.sockets, { busy: 0, idle: 1 });
    proxies.close();
    await until(() => proxies.sockets.idle === 0, 'close() ends the idle connection');
  });

  const failures = [
    ['the backend refuses the connection', async () => `http://127.0.0.1:${await freePort()}/rpc`, 'unreachable', /ECONNREFUSED/, 'could not be reached'],
    ['the backend answers after the timeout', async () => `${b.url}/slow`, 'timeout', /no answer within 300 ms/, 'did not answer in time'],
    ['the backend answers HTTP 500', async () => `${b.url}/500`, 'status', /HTTP 500/, 'the backend failed'],
    ['the backend answers something that is not JSON', async () => `${b.url}/garbage`, 'invalid', /not JSON/, 'could not be read'],
    ['the answer is cut short', async () => `${b.url}/cut`, 'unreachable', /broke off|ECONNRESET|socket hang up/, 'could not be reached'],
  ] as const;
  for (const [what, endpoint, kind, cause, wire] of failures) {
    it(`fails with a temporary 100, one log line and no open socket when ${what}`, async () => {
      const { proxies, log } = proxiesFor({ rpc: { endpoint: await endpoint() } });
      const started = Date.now();
      const err = await proxies.rpc!.rpc(caller, 'sum', undefined).then(() => assert.fail('the call succeeded'), (e: unknown) => e);
      assert.ok(Date.now() - started < 2000, 'the failure came within the timeout');
      assert.ok(err instanceof ProxyError, String(err));
      assert.equal(err.kind, kind);
      assert.match(err.message, cause);
      const w = toWire(err);
      assert.deepEqual({ kind: w.kind, code: w.code, temporary: 'temporary' in w && w.temporary }, { kind: 'reply', code: 100, temporary: true });
      assert.match((w as { message: string }).message, new RegExp(`^internal server error: .*${wire}`));
      const lines = log.withMessage(/^proxy call failed/);
      assert.equal(lines.length, 1, JSON.stringify(log.lines));
      assert.deepEqual({ proxy: lines[0]!.proxy, event: lines[0]!.event, client: lines[0]!.client, cause: lines[0]!.cause }, { proxy: 'rpc', event: 'rpc', client: 'c-1', cause: kind });
      await until(() => proxies.sockets.busy === 0 && proxies.sockets.idle <= (kind === 'invalid' ? 1 : 0), 'the failed call holds no socket');
      proxies.close();
    });
  }
});
