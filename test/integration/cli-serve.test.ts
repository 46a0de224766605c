import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { runCli, spawnCli, waitForLine } from '../helpers/cli.js';
import { closedWithin, connectClient } from '../helpers/ws-client.js';

async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** One line on stderr, no stack trace. */
function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\bat .*\(.*:\d+:\d+\)/);
}

const dir = mkdtempSync(join(tmpdir(), 'canal-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Spawns `canal ARGS`; it is killed after the current test if still running, also when the test fails. */
function serveForTest(t: TestContext, args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawnCli(args, env);
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  return child;
}

/** The port of a listening line that names no page to open (the demo pages are not served). */
function portOfBareLine(line: string): number {
  const m = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
  assert.ok(m, `expected no "(open ...)" hint: ${line}`);
  return Number(m[1]);
}

describe('canal serve', () => {
  it('prints the listening line, echoes, and on SIGTERM closes clients with 1001 and exits 0', async (t) => {
    const child = serveForTest(t, ['serve', '--port', '0']);
    const line = await waitForLine(child, /^canal listening on /);
    const m = /^canal listening on ws:\/\/127\.0\.0\.1:(\d+) \(open http:\/\/127\.0\.0\.1:\1\/\)$/.exec(line);
    assert.ok(m, `unexpected line: ${line}`);
    const client = await connectClient(`ws://127.0.0.1:${m[1]}/`);
    client.send('hello');
    assert.equal(await client.nextText(), 'echo: hello');
    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 5000);
    assert.equal((await closedWithin(client)).code, 1001);
  });

  it('exits 0 on SIGINT too', async (t) => {
    const child = serveForTest(t, ['--port', '0']);
    await waitForLine(child, /^canal listening on /);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('reads CANAL_HOST and CANAL_PORT', async (t) => {
    const child = serveForTest(t, [], { CANAL_HOST: 'localhost', CANAL_PORT: '0' });
    const line = await waitForLine(child, /^canal listening on /);
    assert.match(line, /^canal listening on ws:\/\/localhost:\d+ \(open http:\/\/localhost:\d+\/\)$/);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('points at / in its listening line only when it serves the demo pages there (not with --no-demos or --no-dev)', async (t) => {
    for (const flag of ['--no-demos', '--no-dev']) {
      const child = serveForTest(t, ['serve', '--port', '0', flag]);
      const port = portOfBareLine(await waitForLine(child, /^canal listening on /));
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 404, `${flag}: / is not served`);
      await page.body?.cancel();
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    }
  });

  it('says the port is in use and names the flag, exit 1, when the port is taken', async () => {
    const { server, port } = await occupiedPort();
    try {
      const r = await runCli(['serve', '--port', String(port)]);
      assert.equal(r.code, 1);
      assertOneLineError(r.stderr, new RegExp(`^canal: port ${port} on 127\\.0\\.0\\.1 is already in use; choose another with --port or CANAL_PORT$`));
    } finally {
      server.close();
    }
  });

  it('names the flag and what is allowed for a bad value, exit 1', async () => {
    const r = await runCli(['--port', 'eighty']);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /^canal: port: must be an integer from 0 to 65535, got "eighty" \(from flag --port\)$/);
  });

  it('rejects an unknown flag, exit 1', async () => {
    const r = await runCli(['serve', '--prot', '1']);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /^canal: unknown flag --prot for "canal serve"; did you mean --port\? \(see canal serve --help\)$/);
  });

  it('refuses dev mode on a non-loopback host unless --insecure-dev is given, exit 1', async () => {
    const r = await runCli(['--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /^canal: host: dev mode .* only listens on loopback addresses, not 0\.0\.0\.0; give a config file \(dev mode is then off\) or pass --insecure-dev$/);
  });

  it('rejects a host that is not this machine, exit 1', async () => {
    const r = await runCli(['--host', '192.0.2.1', '--port', '0', '--insecure-dev']);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /^canal: cannot listen on 192\.0\.2\.1: that address is not on this machine; choose another with --host or CANAL_HOST$/);
  });

  it('rejects a malformed host, exit 1', async () => {
    const r = await runCli(['--host', 'not a host']);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /^canal: host: must be a host name or IP address/);
  });

  it('rejects an unknown command, exit 1, suggesting the command it resembles', async () => {
    const r = await runCli(['srve']);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /^canal: unknown command "srve"; did you mean "serve"\? \(commands: /);
  });

  it('refuses to start with a replace-with-... placeholder in the config file or the environment, exit 1', async () => {
    const file = join(dir, 'placeholder.json');
    writeFileSync(file, JSON.stringify({ port: 0, api_key: 'replace-with-a-random-key' }));
    const fromFile = await runCli(['serve', '--config', file]);
    assert.equal(fromFile.code, 1);
    assertOneLineError(fromFile.stderr, /^canal: api_key: is a placeholder, not a value \("replace-with-a-random-key"\): put a real one there or set CANAL_API_KEY; "canal config example" writes a config file with random secrets of its own \(in .*placeholder\.json\)$/);
    const fromEnv = await runCli(['serve', '--port', '0'], { CANAL_TOKEN_HMAC_SECRET: 'replace-with-a-random-secret-of-32-characters-or-more' });
    assert.equal(fromEnv.code, 1);
    assertOneLineError(fromEnv.stderr, /^canal: token_hmac_secret: is a placeholder, not a value .*\(from environment variable CANAL_TOKEN_HMAC_SECRET\)$/);
  });

  it('reports a config file that does not exist or is not JSON', async () => {
    const missing = await runCli(['--config', join(dir, 'nope.json')]);
    assert.equal(missing.code, 1);
    assertOneLineError(missing.stderr, /cannot read config file .*nope\.json: no such file \(check --config\)$/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"port": 80,}');
    const invalid = await runCli(['--config', bad]);
    assert.equal(invalid.code, 1);
    assertOneLineError(invalid.stderr, /^canal: config file .*bad\.json is not valid JSON: line 1, column 12: a comma before "\}" \(JSON allows no trailing comma\)$/);
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ port: -1, colour: 'blue' }));
    const fields = await runCli(['--config', wrong]);
    assert.equal(fields.code, 1);
    assert.deepEqual(fields.stderr.trim().split('\n').map((l) => l.replace(/ \(in .*\)$/, '')), [
      'canal: port: must be an integer from 0 to 65535, got -1',
      'canal: colour: is not an option',
    ]);
  });
});

describe('canal --help and --version', () => {
  it('prints the commands with --help, exit 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: canal \[command\] \[options\]/);
    assert.match(r.stdout, /serve\s+run the server/);
  });

  it('lists every serve option with its default and variable, in lines of at most 80 columns', async () => {
    const r = await runCli(['serve', '--help']);
    assert.equal(r.code, 0);
    // Each option: its flag on a line of its own, then its doc indented, then its default and variable.
    const blocks = new Map<string, string>();
    for (const m of r.stdout.matchAll(/^ {2}(\S.*)\n((?: {6}.*\n)+)/gm)) blocks.set(m[1]!, m[2]!.replace(/\s+/g, ' ').trim());
    for (const [flag, note] of <Array<[string, string]>>[
      ['--host HOST', '(default "127.0.0.1"; env CANAL_HOST)'],
      ['--port PORT', '(default 8765; env CANAL_PORT)'],
      ['--max-message-bytes BYTES', '(default 1048576; env CANAL_MAX_MESSAGE_BYTES)'],
      ['--log-level LEVEL', '(default "info"; env CANAL_LOG_LEVEL)'],
      ['--dev, --no-dev', '(default true; env CANAL_DEV)'],
      ['--ping-interval DURATION', '(default 25s; env CANAL_PING_INTERVAL)'],
    ]) {
      assert.ok(blocks.get(flag)?.endsWith(note), `${flag}: ${blocks.get(flag)}`);
    }
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.length > 80), []);
  });

  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});
