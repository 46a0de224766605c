/**
 * Where the demo pages are not served: outside dev mode (they need its anonymous connections,
 * demo namespaces and /demo/token, so they could only fail there), and with `demos: false`
 * (`--no-demos`). / and /demo/ then answer 404 with the reason; the stylesheet and the
 * centrifuge client stay, for the admin page and the application's own pages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serveProcess } from '../helpers/cli.js';
import { startServer } from '../helpers/server.js';

async function text(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

describe('demo pages outside dev mode', async () => {
  const server = await startServer({ dev: false });

  it('answers 404 to / and /demo/... saying the demos need dev mode and how to get it', async () => {
    for (const path of ['/', '/demo/chat/', '/demo/echo/echo.js', '/demo/game/', '/index.html']) {
      const { status, body } = await text(`${server.httpUrl}${path}`);
      assert.equal(status, 404, path);
      assert.match(body, /^Not found: \S+\. The demo pages are served in dev mode only \(they need its anonymous connections, demo namespaces and \/demo\/token\)/, path);
      assert.match(body, /Run canal without a config file, or set "dev": true/, path);
    }
  });

  it('mints no demo tokens at /demo/token', async () => {
    assert.equal((await text(`${server.httpUrl}/demo/token?user=ana`)).status, 404);
  });

  it('still serves /assets/style.css and the centrifuge client', async () => {
    assert.equal((await text(`${server.httpUrl}/assets/style.css`)).status, 200);
    const client = await text(`${server.httpUrl}/vendor/centrifuge/centrifuge.js`);
    assert.equal(client.status, 200);
    assert.ok(client.body.includes('globalThis.Centrifuge'));
  });
});

describe('demos: false in dev mode', async () => {
  const server = await startServer({ demos: false });

  it('answers 404 to / and /demo/... naming the option that turned them off', async () => {
    for (const path of ['/', '/demo/chat/', '/demo/token?user=ana']) {
      const { status, body } = await text(`${server.httpUrl}${path}`);
      assert.equal(status, 404, path);
      assert.match(body, /The demo pages are off \(demos: false\)\.\n$/, path);
    }
  });

  it('keeps the WebSocket endpoints and the server API', async () => {
    const res = await fetch(`${server.httpUrl}/api/info`, { method: 'POST', headers: { 'x-api-key': server.canal.apiKey! }, body: '{}' });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });
});

describe('canal serve --no-demos', () => {
  it('serves no demo page, as the flag says', async () => {
    const served = await serveProcess(['--no-demos']);
    const { status, body } = await text(`${served.httpUrl}/`);
    assert.equal(status, 404);
    assert.match(body, /demos: false/);
  });
});
