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
