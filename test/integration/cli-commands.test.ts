/**
 * The client commands of the CLI end to end, as a user runs them: `canal serve --port 0` in a
 * child process, then `canal publish`, `token`, `connect` and `info` as further child processes
 * against it, with their output and exit codes. Each child costs about a second of CPU (the
 * CLI loads the whole server), so the cases that check arguments, error messages, `--json`,
 * `config` and unreachable servers run `main()` in this process instead — the function whose
 * result bin.ts makes the exit code.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeJwt, jwtVerify } from 'jose';
import { exampleConfig, PLACEHOLDER_SECRETS } from '../../src/cli/config-cmd.js';
import { stripJsonComments } from '../../src/cli/config-file.js';
import { main } from '../../src/cli/main.js';
import { runCli, serveProcess, type CliResult, type ServedProcess } from '../helpers/cli.js';
import { connectedClient } from '../helpers/protocol-client.js';

type Served = ServedProcess;

/** Spawns `canal serve --port 0 ARGS`; resolves once both stdout lines (listening, dev key) are read. */
function serve(args: readonly string[] = []): Promise<ServedProcess> {
  return serveProcess(args);
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  await once(s, 'close');
  return port;
}

/** Asserts exit 1 with exactly one line on stderr matching `pattern`, no stack trace, nothing on stdout. */
function assertOneLineFailure(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/);
  assert.equal(r.stdout, '');
}

/** Runs `canal ARGS` in this process with `env` (no CANAL_* variables by default); resolves like runCli. */
async function runMain(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main({ argv: args, env, out: (l) => (stdout += `${l}\n`), err: (l) => (stderr += `${l}\n`) });
  return { code, stdout, stderr };
}

/** Stdout lines, without the trailing empty one. */
function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

async function api(server: Served, method: string, params: unknown): Promise<any> {
  const res = await fetch(`${server.httpUrl}/api/${method}`, { method: 'POST', headers: { 'x-api-key': server.apiKey }, body: JSON.stringify(params) });
  return res.json();
}

const dir = mkdtempSync(join(tmpdir(), 'canal-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('canal client commands against a running canal serve', { concurrency: 3 }, async () => {
  const server = await serve();
  const url = ['--url', server.httpUrl];

  it('publish prints the offset and epoch, and a subscriber receives the data', async () => {
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe('chat:cli-pub');
    const r = await runCli(['publish', 'chat:cli-pub', '{"x":1}', ...url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^published to chat:cli-pub: offset 1, epoch \S+\n$/);
    const push = await sub.nextPush({ kind: 'pub', channel: 'chat:cli-pub' });
    assert.deepEqual(push.push.pub.data, { x: 1 });
    sub.close();
  });

  it('publish sends text that is not JSON as a JSON string, and a ws:// --url works too', async () => {
    const r = await runMain(['publish', 'chat:cli-text', 'hello world', '--url', server.wsUrl]);
    assert.equal(r.code, 0, r.stderr);
    const history = await api(server, 'history', { channel: 'chat:cli-text', limit: -1 });
    assert.deepEqual(history.result.publications.map((p: any) => p.data), ['hello world']);
  });

  it('publish of DATA that starts with { but is not JSON exits 1 naming the column, and publishes nothing', async () => {
    const r = await runMain(['publish', 'chat:cli-broken', '{"home":2,"away":1', ...url]);
    assertOneLineFailure(r, /^canal: DATA is not valid JSON at column 19: the text ends inside an object \(a missing "\}"\?\); nothing was published \(DATA that starts with \{ or \[ must be JSON; pass --text to send it as a string\)$/);
    const broken = await runMain(['publish', 'chat:cli-broken', ' [1, 2,]', ...url]);
    assertOneLineFailure(broken, /^canal: DATA is not valid JSON at column 7: a comma before "\]"/);
    const history = await api(server, 'history', { channel: 'chat:cli-broken', limit: -1 });
    assert.deepEqual(history.result.publications, []);
  });

  it('publish --text sends DATA as a string even when it looks like JSON', async () => {
    for (const data of ['{"home":2,"away":1', '{"x":1}', '42']) {
      const r = await runMain(['publish', 'chat:cli-as-text', data, '--text', ...url]);
      assert.equal(r.code, 0, r.stderr);
    }
    const history = await api(server, 'history', { channel: 'chat:cli-as-text', limit: -1 });
    assert.deepEqual(history.result.publications.map((p: any) => p.data), ['{"home":2,"away":1', '{"x":1}', '42']);
  });

  it('publish with --idempotency-key twice publishes once and prints the same offset', async () => {
    const args = ['publish', 'chat:cli-idem', '"once"', '--idempotency-key', 'k1', ...url];
    const first = await runMain(args);
    const second = await runMain(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.stdout, first.stdout);
    const history = await api(server, 'history', { channel: 'chat:cli-idem', limit: -1 });
    assert.equal(history.result.publications.length, 1);
  });

  it('publish with one argument exits 1 with one line saying what it takes', async () => {
    assertOneLineFailure(await runMain(['publish', 'chat:only-channel', ...url]), /^canal: publish takes CHANNEL and DATA \(see canal publish --help\)$/);
  });

  it('publish with an unknown flag exits 1 with one line naming it', async () => {
    assertOneLineFailure(await runMain(['publish', 'chat:x', '1', '--chanel', 'y', ...url]), /^canal: unknown flag --chanel for "canal publish"/);
  });

  it('publish refused by the server exits 1 with the server\'s error on one line', async () => {
    assertOneLineFailure(await runMain(['publish', 'nowhere:x', '1', ...url]), /^canal: the server answered error 102: .*nowhere/);
  });

  it('token mints a JWT for ana with the TTL and info asked for, signed with the dev server\'s secret', async () => {
    const r = await runCli(['token', '--user', 'ana', '--ttl', '10m', '--info', '{"name":"Ana"}', ...url]);
    assert.equal(r.code, 0, r.stderr);
    const jwt = r.stdout.trim();
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = decodeJwt(jwt);
    assert.equal(claims.sub, 'ana');
    assert.deepEqual(claims.info, { name: 'Ana' });
    const now = Math.floor(Date.now() / 1000);
    assert.ok(claims.exp !== undefined && Math.abs(claims.exp - (now + 600)) <= 5, `exp ${claims.exp} is about now + 10 min`);
    assert.ok(claims.iat !== undefined && Math.abs(claims.iat - now) <= 5);
    // The dev server accepts it: the connection is ana's, with her info.
    const c = await connectedClient(server.wsUrl, { token: jwt });
    await c.subscribe('chat:cli-token');
    const presence = await api(server, 'presence', { channel: 'chat:cli-token' });
    assert.equal(presence.result.presence[c.clientId].user, 'ana');
    assert.deepEqual(presence.result.presence[c.clientId].conn_info, { name: 'Ana' });
    c.close();
  });

  it('token signs with --token-hmac-secret when given one', async () => {
    const secret = 'a-secret-that-is-at-least-32-characters-long';
    const r = await runMain(['token', '--user', 'bob', '--channel', 'chat:x', '--ttl', '0', '--token-hmac-secret', secret, '--url', `http://127.0.0.1:${await closedPort()}`]);
    assert.equal(r.code, 0, r.stderr);
    const { payload } = await jwtVerify(r.stdout.trim(), new TextEncoder().encode(secret));
    assert.equal(payload.sub, 'bob');
    assert.equal(payload.channel, 'chat:x');
    assert.equal(payload.exp, undefined, '--ttl 0 makes a token with no expiry');
  });

  it('token with no server at the URL exits 1 saying no dev server answers there, and how to start one or pass a secret', async () => {
    const port = await closedPort();
    const r = await runMain(['token', '--user', 'ana', '--url', `http://127.0.0.1:${port}`]);
    assertOneLineFailure(r, new RegExp(`^canal: no dev server answers at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): start one with "canal serve" \\(canal token finds its secret on this machine\\), or pass --token-hmac-secret SECRET or set CANAL_TOKEN_HMAC_SECRET$`));
  });

  it('token against a server that shares no secret exits 1 naming how to pass one', async (t) => {
    const other = createHttpServer((_req, res) => res.end('ok'));
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    t.after(() => {
      other.close();
      other.closeAllConnections();
    });
    const httpUrl = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    const r = await runMain(['token', '--user', 'ana', '--url', httpUrl]);
    assertOneLineFailure(r, new RegExp(`^canal: no token secret: the server at ${httpUrl.replace(/[.]/g, '\\.')} shares none with this machine \\(only canal serve in dev mode does\\); pass --token-hmac-secret SECRET, set CANAL_TOKEN_HMAC_SECRET, or give the server's --config FILE$`));
  });

  it('token with a --ttl that is not a duration exits 1 with one line saying what is allowed', async () => {
    assertOneLineFailure(await runMain(['token', '--user', 'ana', '--ttl', 'soon', ...url]), /^canal: --ttl must be .*, got "soon"$/);
  });

  it('token without --user exits 1 with one line', async () => {
    assertOneLineFailure(await runMain(['token', ...url]), /^canal: --user ID is required/);
  });

  it('connect to the echo endpoint prints "< echo: hello" for the line "hello" and exits 0', async () => {
    const r = await runCli(['connect', `${server.wsUrl}/`], {}, 20_000, 'hello\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(linesOf(r.stdout), ['< echo: hello']);
    assert.match(r.stderr, /closed: 1000/);
  });

  it('connect to /raw/chat:lobby publishes each line and prints what the channel carries', async () => {
    const sub = await connectedClient(server.wsUrl);
    await sub.subscribe('chat:lobby');
    const r = await runCli(['connect', `${server.wsUrl}/raw/chat:lobby`], {}, 20_000, 'hi there\n{"n":2}\n');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(linesOf(r.stdout), ['< hi there', '< {"n":2}']);
    assert.equal((await sub.nextPush({ kind: 'pub', channel: 'chat:lobby' })).push.pub.data, 'hi there');
    assert.deepEqual((await sub.nextPush({ kind: 'pub', channel: 'chat:lobby' })).push.pub.data, { n: 2 });
    sub.close();
  });

  it('connect to /connection/websocket connects, and "sub" then "pub" print a subscribe reply and a pub push', async () => {
    const r = await runCli(['connect', `${server.wsUrl}/connection/websocket`], {}, 20_000, 'sub chat:a\npub chat:a {"x":1}\n');
    assert.equal(r.code, 0, r.stderr);
    const received = linesOf(r.stdout).map((l) => {
      assert.match(l, /^< /);
      return JSON.parse(l.slice(2)) as Record<string, any>;
    });
    assert.ok(received.find((m) => m.id === 1 && m.connect?.client), `a connect reply in ${r.stdout}`);
    assert.ok(received.find((m) => m.id === 2 && m.subscribe), `a subscribe reply in ${r.stdout}`);
    const pub = received.find((m) => m.push?.channel === 'chat:a' && m.push.pub);
    assert.ok(pub, `a pub push in ${r.stdout}`);
    assert.deepEqual(pub.push.pub.data, { x: 1 });
    assert.ok(received.find((m) => m.id === 3 && m.publish), `a publish reply in ${r.stdout}`);
  });

  it('connect to a port where nothing listens exits 1 saying it cannot connect', async () => {
    const port = await closedPort();
    assertOneLineFailure(await runMain(['connect', `ws://127.0.0.1:${port}/`]), new RegExp(`^canal: cannot connect to ws://127\\.0\\.0\\.1:${port}/`));
  });

  it('connect with no URL exits 1 with one line', async () => {
    assertOneLineFailure(await runMain(['connect']), /^canal: connect takes one URL/);
  });

  it('info prints one line per node with its clients, users, channels and uptime', async () => {
    const r = await runCli(['info', ...url]);
    assert.equal(r.code, 0, r.stderr);
    const lines = linesOf(r.stdout);
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0]!, /^\S+ \(canal \d+\.\d+\.\d+\S*, up \d+ s\): \d+ clients, \d+ users, \d+ channels, \d+ subscriptions — node [0-9a-f-]{36}$/);
  });

  it('info --json prints the API result as JSON', async () => {
    const r = await runMain(['info', '--json', ...url]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { nodes: Array<Record<string, unknown>> };
    assert.equal(result.nodes.length, 1);
    for (const field of ['uid', 'name', 'version', 'num_clients', 'num_users', 'num_channels', 'uptime']) {
      assert.ok(field in result.nodes[0]!, `nodes[0].${field}`);
    }
  });
});

describe('canal client commands with no server', () => {
  for (const args of [['publish', 'chat:x', '1'], ['info']]) {
    it(`${args[0]} with a key exits 1 with "cannot reach canal at URL"`, async () => {
      const port = await closedPort();
      const r = await runMain([...args, '--url', `http://127.0.0.1:${port}`, '--api-key', 'some-key-123']);
      assertOneLineFailure(r, new RegExp(`^canal: cannot reach canal at http://127\\.0\\.0\\.1:${port}\\b`));
    });

    it(`${args[0]} with no key either (a stopped dev server) exits 1 with "cannot reach canal at URL"`, async () => {
      const port = await closedPort();
      const r = await runMain([...args, '--url', `http://127.0.0.1:${port}`]);
      assertOneLineFailure(r, new RegExp(`^canal: cannot reach canal at http://127\\.0\\.0\\.1:${port}\\b`));
    });
  }
});

describe('canal config', () => {
  it('check FILE says "FILE: valid" and exits 0 for a valid file', async () => {
    const file = join(dir, 'valid.json');
    writeFileSync(file, JSON.stringify({ port: 9000, api_key: 'a-long-api-key', namespaces: { chat: { history_size: 10, history_ttl: '1m' } } }));
    const r = await runMain(['config', 'check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${file}: valid\n`);
  });

  it('check FILE names each of 3 wrong fields, a nested namespace option too, one line each, exit 1', async () => {
    const file = join(dir, 'wrong.json');
    writeFileSync(file, JSON.stringify({
      port: 'eighty',
      log_level: 'loud',
      namespaces: { chat: { history_size: -1, history_ttl: '10m' } },
    }));
    const r = await runMain(['config', 'check', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = linesOf(r.stderr);
    assert.equal(lines.length, 3, r.stderr);
    assert.match(lines.find((l) => l.includes(' port:')) ?? '', new RegExp(`^canal: port: .*"eighty".*in ${file.replace(/[.]/g, '\\.')}`));
    assert.match(lines.find((l) => l.includes(' log_level:')) ?? '', /^canal: log_level: .*"loud"/);
    assert.match(lines.find((l) => l.includes('namespaces.chat.history_size')) ?? '', /^canal: namespaces\.chat\.history_size: .*-1/);
  });

  it('check accepts // and /* */ comments in the file', async () => {
    const file = join(dir, 'comments.json');
    writeFileSync(file, '// canal\n{\n  /* the port */ "port": 9001, // trailing\n  "log_level": "debug"\n}\n');
    const r = await runMain(['config', 'check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${file}: valid\n`);
  });

  it('check reports a JSON syntax error by line and column, counting lines that hold comments', async () => {
    const file = join(dir, 'syntax.json');
    writeFileSync(file, '// canal\n{\n  /* the port */ "port": 9001 // no comma\n  "log_level": "debug"\n}\n');
    assertOneLineFailure(await runMain(['config', 'check', file]), new RegExp(`^canal: config file ${file.replace(/[.]/g, '\\.')} is not valid JSON: line 3, column 30: a missing "," between two properties$`));
  });

  it('check names an unknown key with a suggestion', async () => {
    const file = join(dir, 'typo.json');
    writeFileSync(file, '{"prot": 9000}');
    const r = await runMain(['config', 'check', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /prot.*port/);
  });

  it('check suggests the namespace option that a mistyped one resembles', async () => {
    const file = join(dir, 'ns-typo.json');
    writeFileSync(file, JSON.stringify({ namespaces: { chat: { history_sise: 10, allow_subscribe_for_anonymus: true, colour: 'red' } } }));
    const r = await runMain(['config', 'check', file]);
    assert.equal(r.code, 1);
    assert.deepEqual(linesOf(r.stderr).map((l) => l.replace(` (in ${file})`, '')), [
      'canal: namespaces.chat.history_sise: is not a namespace option; did you mean "history_size"?',
      'canal: namespaces.chat.allow_subscribe_for_anonymus: is not a namespace option; did you mean "allow_subscribe_for_anonymous"?',
      'canal: namespaces.chat.colour: is not a namespace option',
    ]);
  });

  it('a mistyped flag gets the flag it resembles', async () => {
    assertOneLineFailure(await runMain(['publish', 'chat:x', '1', '--idempotency-kye', 'k']), /^canal: unknown flag --idempotency-kye for "canal publish"; did you mean --idempotency-key\? \(see canal publish --help\)$/);
    assertOneLineFailure(await runMain(['info', '--jsno']), /^canal: unknown flag --jsno for "canal info"; did you mean --json\?/);
  });

  it('check on a file that does not exist exits 1 with one line', async () => {
    assertOneLineFailure(await runMain(['config', 'check', join(dir, 'missing.json')]), /^canal: cannot read config file .*missing\.json: no such file/);
  });

  it('example makes a random API key and token secret on every run, and listens on 127.0.0.1', async () => {
    const runs = await Promise.all([runMain(['config', 'example']), runMain(['config', 'example'])]);
    const [a, b] = runs.map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(stripJsonComments(r.stdout)) as Record<string, unknown>;
    }) as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(a.host, '127.0.0.1');
    assert.match(runs[0]!.stdout, /To open canal to the network use "0\.0\.0\.0"/);
    for (const key of ['api_key', 'token_hmac_secret']) {
      assert.match(String(a[key]), /^[0-9a-f]{48,}$/, `${key} is random hex`);
      assert.notEqual(a[key], b[key], `${key} differs between two runs`);
    }
  });

  it('check refuses the replace-with-... placeholders of the docs\' example, naming each field, exit 1', async () => {
    const file = join(dir, 'placeholders.json');
    writeFileSync(file, exampleConfig(PLACEHOLDER_SECRETS));
    const r = await runMain(['config', 'check', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(linesOf(r.stderr).map((l) => l.replace(` (in ${file})`, '')), [
      'canal: api_key: is a placeholder, not a value ("replace-with-a-random-key"): put a real one there or set CANAL_API_KEY; "canal config example" writes a config file with random secrets of its own',
      'canal: token_hmac_secret: is a placeholder, not a value ("replace-with-a-random-secret-of-32-characters-or-more"): put a real one there or set CANAL_TOKEN_HMAC_SECRET; "canal config example" writes a config file with random secrets of its own',
    ]);
  });

  it('check accepts placeholders that CANAL_* variables replace, as docs/scaling.md has the nodes do', async () => {
    const file = join(dir, 'placeholders-env.json');
    writeFileSync(file, exampleConfig(PLACEHOLDER_SECRETS));
    const env = { CANAL_API_KEY: 'a-real-key-from-the-environment', CANAL_TOKEN_HMAC_SECRET: 'a-real-secret-from-the-environment-0123456789' };
    const r = await runMain(['config', 'check', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${file}: valid\n`);
    const partly = await runMain(['config', 'check', file], { CANAL_API_KEY: env.CANAL_API_KEY });
    assert.equal(partly.code, 1);
    assert.match(partly.stderr, /^canal: token_hmac_secret: is a placeholder/);
  });

  it('example prints a configuration that check accepts', async () => {
    const r = await runMain(['config', 'example']);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, 'example.json');
    writeFileSync(file, r.stdout);
    const checked = await runMain(['config', 'check', file]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(checked.stdout, `${file}: valid\n`);
  });
});

describe('canal SUBCOMMAND --help', () => {
  for (const command of [['serve'], ['publish'], ['token'], ['connect'], ['info'], ['config'], []]) {
    it(`canal ${[...command, '--help'].join(' ')} exits 0, documents its exit codes and fits 80 columns`, async () => {
      const r = await runMain([...command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Usage: canal/);
      if (command.length > 0) assert.match(r.stdout, /Exit codes: 0 .*; 1 /);
      assert.equal(r.stderr, '');
      assert.deepEqual(r.stdout.split('\n').filter((l) => l.length > 80), [], 'every line fits 80 columns');
    });
  }
});
