/**
 * The README's embedding example is real code: it is taken from README.md as written, run
 * against the current source, and used by the centrifuge client as a reader would.
 * (test/integration/package.test.ts runs it again against the packed package.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import type { Canal } from '../../src/index.js';
import { embeddingExample, ROOT } from '../helpers/readme.js';

describe('the README embedding example', () => {
  it('imports the package by its npm name, canal-server', () => {
    assert.match(embeddingExample(), /^import \{ Canal, ErrorCode, ReplyError \} from 'canal-server';$/m);
  });

  it('runs as written: a roll RPC answers a value and publishes it to room:dice, and serves no demo page', async (t) => {
    const source = embeddingExample()
      .replace("from 'canal-server'", `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)}`)
      .replace('port: 8765', 'port: 0')
      .replace("process.on('SIGTERM', () => void canal.close());", 'export { canal };');
    assert.match(source, /export \{ canal \};/, 'the example ends by closing on SIGTERM');
    const dir = mkdtempSync(join(tmpdir(), 'canal-readme-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'example.mts');
    writeFileSync(file, source);
    const { canal } = (await import(pathToFileURL(file).href)) as { canal: Canal };
    try {
      const client = new Centrifuge(`${canal.address!.url}/connection/websocket`, { websocket: WebSocket as never });
      const sub = client.newSubscription('room:dice');
      const published = new Promise<unknown>((resolve) => sub.on('publication', (ctx) => resolve(ctx.data)));
      sub.subscribe();
      client.connect();
      await sub.ready(5000);
      const { data } = await client.rpc('roll', { sides: 6 });
      const value = (data as { value: number }).value;
      assert.ok(Number.isInteger(value) && value >= 1 && value <= 6, `roll gave ${value}`);
      assert.deepEqual(await published, { client: (client as unknown as { _client: string })._client, value });
      await assert.rejects(client.rpc('fly', {}), (err: { code: number }) => err.code === 104);
      await assert.rejects(client.rpc('roll', { sides: 1 }), (err: { code: number }) => err.code === 107);
      client.disconnect();
      // The demos' RPC methods (game.join...) do not exist in this application: no page offers them.
      const page = await fetch(`${canal.address!.url.replace('ws:', 'http:')}/demo/game/`);
      assert.equal(page.status, 404);
      assert.match(await page.text(), /The demo pages are off \(demos: false\)/);
    } finally {
      await canal.close();
    }
  });
});
