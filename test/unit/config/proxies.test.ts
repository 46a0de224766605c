/**
 * Proxy configuration: the `proxies` table with its defaults, the endpoint flags that set the
 * connect, refresh and rpc proxies, every wrong field named by its path, and the options that
 * cannot hold together (a namespace naming a proxy nobody defined, two personal channels, a
 * connection limit with single_connection, a JWKS with a public key, demo moderation off dev).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveProxies } from '../../../src/config/proxies.js';
import { ConfigError, resolveConfig, type ConfigSources } from '../../../src/config/resolve.js';

function problemsOf(sources: ConfigSources): string[] {
  try {
    resolveConfig(sources);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message.split('\n');
  }
  return assert.fail('expected a ConfigError');
}

const file = (data: unknown): { readonly path: string; readonly data: unknown } => ({ path: 'canal.json', data });

describe('proxies', () => {
  it('applies the defaults and lower-cases header names', () => {
    const config = resolveConfig({ file: file({ proxies: { rpc: { endpoint: 'http://127.0.0.1:5000/rpc', http_headers: ['Cookie'], timeout: '2s' } } }) });
    assert.deepEqual(resolveProxies(config).get('rpc'), {
      name: 'rpc', endpoint: 'http://127.0.0.1:5000/rpc', timeoutMs: 2000, httpHeaders: ['cookie'], emulatedHeaders: [], staticHeaders: {},
      binaryEncoding: false, includeMeta: false, keepAlive: true,
    });
  });

  it('lets the endpoint flags set (or create) the connect, refresh and rpc proxies, with proxy_timeout and proxy_http_headers', () => {
    const config = resolveConfig({
      file: file({ proxies: { connect: { endpoint: 'http://old/connect', include_connection_meta: true } } }),
      flags: { connect_proxy_endpoint: 'http://new/connect', rpc_proxy_endpoint: 'https://b/rpc', proxy_timeout: '250ms', proxy_http_headers: 'Cookie,Authorization' },
    });
    const proxies = resolveProxies(config);
    assert.deepEqual([...proxies.keys()].sort(), ['connect', 'rpc']);
    assert.equal(proxies.get('connect')!.endpoint, 'http://new/connect');
    assert.equal(proxies.get('connect')!.includeMeta, true, 'the file\'s other options stay');
    assert.equal(proxies.get('rpc')!.timeoutMs, 250);
    assert.deepEqual(proxies.get('rpc')!.httpHeaders, ['cookie', 'authorization']);
  });

  it('names every wrong proxy field by its path', () => {
    const lines = problemsOf({
      file: file({ proxies: { a: { endpoint: 'grpc://x:1' }, b: { timeout: 'soon', endpoint: 'http://x' }, c: {}, 'bad name': { endpoint: 'http://x' }, d: { endpoit: 'http://x' } } }),
    });
    assert.deepEqual(lines, [
      'proxies.a.endpoint: must be an http:// or https:// URL such as http://127.0.0.1:5000/centrifugo/connect (canal\'s proxies speak HTTP, not gRPC), got "grpc://x:1" (in canal.json)',
      'proxies.b.timeout: must be a duration from 10ms to 10m (e.g. 500ms, 25s, 10m, 1h; a bare number is milliseconds), got "soon" (in canal.json)',
      'proxies.c.endpoint: is required: the URL canal POSTs to (in canal.json)',
      'proxies.bad name: is not a valid proxy name (1-64 of A-Z a-z 0-9 _ - .) (in canal.json)',
      'proxies.d.endpoit: is not a proxy option; did you mean "endpoint"? (in canal.json)',
    ]);
  });

  it('refuses a namespace that names a proxy nobody defined, listing those that are', () => {
    const [line] = problemsOf({ file: file({ proxies: { moderation: { endpoint: 'http://x' } }, namespaces: { chat: { publish_proxy: 'moderator' } } }) });
    assert.equal(line, 'namespaces.chat.publish_proxy: names proxy "moderator", which "proxies" does not define (proxies: moderation)');
  });

  it('refuses options that cannot hold together', () => {
    assert.match(problemsOf({ file: file({ namespaces: { a: { user_personal_channel: true }, b: { user_personal_channel: true } } }) })[0]!,
      /namespaces\.b: user_personal_channel is also set in namespace "a"/);
    assert.match(problemsOf({ file: file({ default_namespace: { user_personal_channel: true }, namespaces: { b: { user_personal_channel: true } } }) })[0]!,
      /namespaces\.b\.user_personal_channel: is also set in default_namespace/);
    assert.match(problemsOf({ flags: { single_connection: true, user_connection_limit: '2' } })[0]!, /^user_connection_limit: single_connection is on/);
    assert.match(problemsOf({ flags: { token_jwks_url: 'https://a/jwks', token_public_key: 'k.pem' } })[0]!, /^token_jwks_url: .* not both/);
    assert.match(problemsOf({ file: file({}), flags: { demo_moderation_endpoint: 'http://x' } })[0]!, /^demo_moderation_endpoint: is for the demo chat/);
  });

  it('adds the demo moderation proxy in dev mode only when its endpoint is set', () => {
    assert.equal(resolveProxies(resolveConfig({})).size, 0);
    assert.equal(resolveProxies(resolveConfig({ flags: { demo_moderation_endpoint: 'http://127.0.0.1:5000/' } })).get('demo_moderation')?.endpoint, 'http://127.0.0.1:5000/');
  });
});

describe('Centrifugo v6 namespace proxy keys', () => {
  const proxies = { moderation: { endpoint: 'http://127.0.0.1:5000/publish' }, subscribe: { endpoint: 'http://127.0.0.1:5000/subscribe' }, auth: { endpoint: 'http://127.0.0.1:5000/auth' } };
  const chat = (options: Record<string, unknown>): ReturnType<typeof resolveConfig>['default_namespace'] =>
    resolveConfig({ file: file({ proxies, namespaces: { chat: options } }) }).namespaces.chat!;

  it('reads *_proxy_enabled with *_proxy_name as the canal *_proxy option of that name', () => {
    const ns = chat({ subscribe_proxy_enabled: true, subscribe_proxy_name: 'auth', publish_proxy_enabled: true, publish_proxy_name: 'moderation', sub_refresh_proxy_enabled: true, sub_refresh_proxy_name: 'auth' });
    assert.deepEqual([ns.subscribe_proxy, ns.publish_proxy, ns.sub_refresh_proxy], ['auth', 'moderation', 'auth']);
  });

  it('reads a bare *_proxy_enabled: true as the proxy named after the event, Centrifugo\'s default proxy', () => {
    assert.equal(chat({ subscribe_proxy_enabled: true }).subscribe_proxy, 'subscribe');
  });

  it('turns no proxy on with *_proxy_enabled: false, whatever name is beside it', () => {
    assert.equal(chat({ subscribe_proxy_enabled: false, subscribe_proxy_name: 'auth' }).subscribe_proxy, undefined);
  });

  it('accepts both forms when they agree, and *_proxy_enabled: true beside the canal key', () => {
    assert.equal(chat({ publish_proxy: 'moderation', publish_proxy_enabled: true, publish_proxy_name: 'moderation' }).publish_proxy, 'moderation');
    assert.equal(chat({ publish_proxy: 'moderation', publish_proxy_enabled: true }).publish_proxy, 'moderation');
  });

  it('refuses both forms when they disagree, a name without _enabled, and a wrong value, each by its path', () => {
    const lines = problemsOf({
      file: file({
        proxies,
        namespaces: {
          a: { publish_proxy: 'moderation', publish_proxy_enabled: true, publish_proxy_name: 'auth' },
          b: { subscribe_proxy: 'auth', subscribe_proxy_enabled: false },
          c: { sub_refresh_proxy_name: 'auth' },
          d: { subscribe_proxy_enabled: 'yes please', publish_proxy_enabled: true, publish_proxy_name: 'no spaces' },
        },
      }),
    });
    assert.deepEqual(lines, [
      'namespaces.a.publish_proxy_name: is "auth" but publish_proxy is "moderation": both name the namespace\'s publish proxy; keep one of them (in canal.json)',
      'namespaces.b.subscribe_proxy_enabled: is false but subscribe_proxy is "auth": one turns the proxy off, the other names one; keep one of them (in canal.json)',
      'namespaces.c.sub_refresh_proxy_name: is set but sub_refresh_proxy_enabled is not: Centrifugo v6 asks the named proxy only with "sub_refresh_proxy_enabled": true; add that, or write "sub_refresh_proxy": "auth" (in canal.json)',
      'namespaces.d.subscribe_proxy_enabled: must be true or false, got "yes please" (in canal.json)',
      'namespaces.d.publish_proxy_name: must be the name of a proxy defined in "proxies", got "no spaces" (in canal.json)',
    ]);
  });

  it('names the proxy a bare *_proxy_enabled means when "proxies" does not define it', () => {
    const [line] = problemsOf({ file: file({ proxies: { moderation: proxies.moderation }, default_namespace: { publish_proxy_enabled: true } }) });
    assert.equal(line, 'default_namespace.publish_proxy: names proxy "publish", which "proxies" does not define (proxies: moderation) (publish_proxy_enabled without publish_proxy_name means the proxy named "publish")');
  });

  it('suggests the v6 key for a misspelt one', () => {
    assert.match(problemsOf({ file: file({ proxies, namespaces: { chat: { subscribe_proxy_enable: true } } }) })[0]!, /did you mean "subscribe_proxy_enabled"\?/);
  });
});
