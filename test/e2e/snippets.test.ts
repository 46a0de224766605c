/**
 * The snippets to copy work as shown: the browser one (from README.md, as the landing page shows
 * it with this server's address filled in) runs in Chromium on a page of another origin; the
 * Node one runs with node. Each subscribes to chat:lobby, publishes, and logs its own message.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { collectConsole, startBrowser } from '../helpers/browser.js';
import { collect, connectedCentrifuge, subscribe } from '../helpers/centrifuge.js';
import { waitForLine } from '../helpers/cli.js';
import { readmeBlock, ROOT } from '../helpers/readme.js';
import { startServer } from '../helpers/server.js';

/** The address the snippets are written for (`npm start`'s). */
const DEFAULT_ADDRESS = '127.0.0.1:8765';

describe('the snippets to copy', async () => {
  const browser = await startBrowser();
  const server = await startServer();
  const address = `127.0.0.1:${server.port}`;
  const browserSnippet = readmeBlock('A snippet to copy', 'html');
  const nodeSnippet = readmeBlock('A snippet to copy', 'js');

  it('are on the landing page as in the README, with this server\'s address', async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(`${server.httpUrl}/`);
    const shown = async (id: string): Promise<string> => `${await page.locator(`#${id}`).textContent()}\n`;
    assert.ok(browserSnippet.includes(DEFAULT_ADDRESS));
    assert.equal(await shown('snippet-browser'), browserSnippet.replaceAll(DEFAULT_ADDRESS, address));
    assert.equal(await shown('snippet-node'), nodeSnippet.replaceAll(DEFAULT_ADDRESS, address));
    assert.ok(browserSnippet.split('\n').length <= 12, 'about ten lines');
  });

  it('the browser one, on a page of another origin, logs its own message, and a Node subscriber gets it too', async (t) => {
    const watcher = await connectedCentrifuge(t, server);
    const atNode = collect(await subscribe(watcher, 'chat:lobby'), 'publication');
    const page = await browser.newPage();
    t.after(() => page.close());
    const logged = collectConsole(page);
    // The page comes from a server of its own (another port: another origin), as a reader's
    // app would during development.
    const html = `<!doctype html>\n<title>snippet</title>\n${browserSnippet.replaceAll(DEFAULT_ADDRESS, address)}`;
    const app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    t.after(() => {
      app.close();
      app.closeAllConnections();
    });
    await page.goto(`http://127.0.0.1:${(app.address() as AddressInfo).port}/`);
    await logged.waitFor('received {text: hello from the browser}');
    await atNode.waitFor(1);
    assert.deepEqual(atNode.items.map((p) => p.data), [{ text: 'hello from the browser' }]);
    assert.deepEqual([...logged.texts('error'), ...logged.pageErrors], []);
  });

  it('the Node one, run with node, logs its own message', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'canal-snippet-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // `npm install centrifuge ws` in a reader's project; here, this repository's packages.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'client.mjs'), nodeSnippet.replaceAll(DEFAULT_ADDRESS, address));
    const child = spawn(process.execPath, ['client.mjs'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    });
    assert.equal(await waitForLine(child, /^received /, 10_000), "received { text: 'hello from Node' }");
  });
});
