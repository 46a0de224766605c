/**
 * The README's moderation example is real: its Python block is examples/moderation.py as it is,
 * and that backend behind `canal serve --demo-moderation-endpoint` (dev mode, one flag) masks and
 * refuses what protocol clients and plain /raw/ clients of the demo chat publish.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serveProcess } from '../helpers/cli.js';
import { closedWithin, connectedClient, expectReply } from '../helpers/protocol-client.js';
import { startPythonBackend } from '../helpers/python-backend.js';
import { readmeBlock, ROOT } from '../helpers/readme.js';
import { connectClient } from '../helpers/ws-client.js';

const MODERATION = fileURLToPath(new URL('../../examples/moderation.py', import.meta.url));

describe('the README moderation example', async () => {
  it('shows examples/moderation.py as it is, in about 20 lines', () => {
    const file = readFileSync(join(ROOT, 'examples/moderation.py'), 'utf8');
    assert.equal(readmeBlock('Moderation', 'python'), file);
    assert.ok(file.split('\n').length <= 30, `${file.split('\n').length} lines`);
    assert.match(readmeBlock('Moderation', 'sh'), /^npm start -- --demo-moderation-endpoint http:\/\/127\.0\.0\.1:5000\/$/m);
  });

  it('masks and refuses what protocol and plain clients publish in the demo chat, with one flag', async () => {
    const backend = await startPythonBackend(MODERATION, ['0']);
    const canal = await serveProcess(['--demo-moderation-endpoint', `${backend.url}/`, '--no-demos']);
    const c = await connectedClient(canal.wsUrl);
    await c.subscribe('chat:mod');
    expectReply(await c.call('publish', { channel: 'chat:mod', data: { text: 'oh darn' } }), { id: 3, publish: {} });
    expectReply(await c.call('publish', { channel: 'chat:mod', data: { text: 'buy spam now' } }),
      { id: 4, error: { code: 1000, message: 'message refused by moderation' } });
    const pub = await c.nextPush({ kind: 'pub', channel: 'chat:mod' });
    assert.deepEqual(pub.push.pub.data, { text: 'oh d**n' });

    const plain = await connectClient(`${canal.wsUrl}/raw/chat:mod`);
    plain.send('darn it');
    assert.equal(await plain.nextText(), 'd**n it');
    assert.deepEqual((await c.nextPush({ kind: 'pub', channel: 'chat:mod' })).push.pub.data, 'd**n it');
    plain.send('spam');
    const { code, reason } = await closedWithin(plain);
    assert.deepEqual({ code, reason }, { code: 1008, reason: 'publish refused: message refused by moderation' });
    c.close();
  });
});
