/**
 * The demo pages in headless Chromium against `canal serve` run by Bun (issue 17): the pages are
 * served through the Bun transport's HTTP adapter, the chat's tokens are minted and verified by
 * jose on Bun, and its messages and presence travel through Bun's native WebSocket server and
 * topic fan-out. The same pages on Node are tested in chat.test.ts and echo-page.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { collectConsole, startBrowser } from '../helpers/browser.js';
import { serveProcess } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

/** The chat's messages on screen, as "author: text". */
async function shownMessages(page: Page): Promise<string[]> {
  return page.locator('#messages > li.message').evaluateAll((items) => items.map((li) =>
    `${li.querySelector('.author')?.textContent ?? ''}: ${li.querySelector('.text')?.textContent ?? ''}`));
}

describe('the demo pages against canal serve on bun', async () => {
  const browser = await startBrowser();
  const server = await serveProcess([], { runtime: 'bun' });

  it('echoes "hello" on /demo/echo/ with no console error', async () => {
    const page = await browser.newPage();
    const logged = collectConsole(page);
    assert.equal((await page.goto(`${server.httpUrl}/demo/echo/`))?.status(), 200);
    await logged.waitFor('he recibido un mensaje: echo: hello');
    assert.deepEqual([...logged.texts('error'), ...logged.pageErrors], []);
    await page.close();
  });

  it('shows two people in /demo/chat/ each other\'s messages and names, and both in "here now"', async (t) => {
    const enter = async (name: string): Promise<Page> => {
      const context = await browser.newContext();
      t.after(() => context.close());
      const page = await context.newPage();
      assert.equal((await page.goto(`${server.httpUrl}/demo/chat/#bun`))?.status(), 200);
      await page.locator('#name').fill(name);
      await page.locator('#name').press('Enter');
      await page.locator('#state[data-state="connected"]').waitFor({ timeout: 5000 });
      return page;
    };
    const [ana, ben] = await Promise.all([enter('Ana'), enter('Ben')]);
    for (const [page, names] of [[ana, ['Ana (you)', 'Ben']], [ben, ['Ana', 'Ben (you)']]] as const) {
      await until(async () => JSON.stringify(await page.locator('#who > li').allTextContents()) === JSON.stringify(names), `presence ${names.join(', ')}`);
    }
    await ana.locator('#text').fill('hola Ben');
    await ana.locator('#text').press('Enter');
    await until(async () => (await ana.locator('#text').inputValue()) === '', 'Ana\'s message was accepted');
    await ben.locator('#text').fill('hi Ana!');
    await ben.locator('#text').press('Enter');
    for (const page of [ana, ben]) {
      await until(async () => (await shownMessages(page)).length === 2, 'both messages on screen');
      assert.deepEqual(await shownMessages(page), ['Ana: hola Ben', 'Ben: hi Ana!']);
    }
  });
});
