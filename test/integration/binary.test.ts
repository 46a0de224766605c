/**
 * One file to run (issue 17, item 4): the executable `npm run build:binary` makes, run from an
 * empty temporary folder — no Node, no node_modules, no web/ beside it — serves the demo pages
 * and the client bundle it embeds, the Python `websockets` client's echo, and the official
 * `centrifuge` client with recovery after an unclean drop. (The seed's client.html against it is
 * in test/e2e/seed-client.test.ts, the one test that binds 8765.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildBinary } from '../helpers/binary.js';
import { connectedCentrifuge, newClient, once, recordingWebSocket, subscribe, timeline } from '../helpers/centrifuge.js';
import { serveProcess } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

const ECHO_CLIENT = fileURLToPath(new URL('../fixtures/python/echo_client.py', import.meta.url));

describe('the standalone executable, run from an empty folder', async () => {
  const binary = await buildBinary();
  const server = await serveProcess([], { binary });

  it('prints its version without anything beside it', async () => {
    const { stdout } = await promisify(execFile)(binary.path, ['--version'], { cwd: binary.cwd });
    assert.match(stdout, /^\d+\.\d+\.\d+/);
    assert.deepEqual(readdirSync(binary.cwd), [], 'it wrote nothing where it runs');
  });

  it('serves the demo pages and the centrifuge browser client it embeds, and nothing else of itself', async () => {
    const page = await fetch(`${server.httpUrl}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<html/i);
    assert.equal((await fetch(`${server.httpUrl}/demo/chat`)).status, 200);
    const bundle = await fetch(`${server.httpUrl}/vendor/centrifuge/centrifuge.js`);
    assert.equal(bundle.status, 200);
    assert.match(await bundle.text(), /Centrifuge/);
    for (const path of ['/vendor/centrifuge/package.json', '/vendor/centrifuge/canal', '/assets/../package.json']) {
      assert.equal((await fetch(`${server.httpUrl}${path}`)).status, 404, path);
    }
  });

  it('answers the Python websockets client "echo: m" for each text, its bytes for binary, then closes 1000', async () => {
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [ECHO_CLIENT, `${server.wsUrl}/`], { timeout: 15_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    assert.deepEqual(stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown), [
      { type: 'text', data: 'echo: hello' },
      { type: 'text', data: 'echo: ñandú 🚀' },
      { type: 'text', data: 'echo: ' },
      { type: 'binary', hex: '00017f80feff' },
      { type: 'close', code: 1000 },
    ]);
  });

  it('recovers, for the centrifuge client whose TCP connection was cut, exactly the publications it missed', async (t) => {
    const channel = 'chat:binary';
    const recorder = recordingWebSocket();
    const a = newClient(t, server, { websocket: recorder.WebSocket, minReconnectDelay: 300, maxReconnectDelay: 400 });
    a.connect();
    await once(a, 'connected');
    const sub = a.newSubscription(channel);
    const events = timeline(sub, ['subscribed', 'publication']);
    sub.subscribe();
    await once(sub, 'subscribed');
    const b = await connectedCentrifuge(t, server);
    await subscribe(b, channel);
    await b.publish(channel, { n: 0 });
    await until(() => events.some((e) => e.event === 'publication'), 'A got the first publication');
    const away = once(a, 'connecting');
    recorder.last().terminate();
    await away;
    for (let n = 1; n <= 10; n++) await b.publish(channel, { n });
    await until(() => events.filter((e) => e.event === 'publication').length === 11, 'A got all 11', 10_000);
    const subscribed = events.filter((e) => e.event === 'subscribed');
    assert.equal(subscribed.length, 2);
    assert.equal(subscribed[1]!.ctx.recovered, true);
    assert.deepEqual(events.filter((e) => e.event === 'publication').map((e) => e.ctx.data.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
