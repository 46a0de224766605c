/**
 * The chat demo with moderation on (README, "Moderation"): the README's Python publish proxy
 * (examples/moderation.py) behind `demo_moderation_endpoint`, the chat page in headless
 * Chromium. A rude word comes out masked for everyone; a banned one is not sent, and the page
 * says why and keeps the text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collectConsole, saveScreenshot, startBrowser } from '../helpers/browser.js';
import { startDemoServer } from '../helpers/demo-server.js';
import { startPythonBackend } from '../helpers/python-backend.js';

const MODERATION = fileURLToPath(new URL('../../examples/moderation.py', import.meta.url));

describe('the chat demo with the moderation backend of the README', async () => {
  const backend = await startPythonBackend(MODERATION, ['0']);
  const browser = await startBrowser();
  const server = await startDemoServer({ demo_moderation_endpoint: `${backend.url}/` });

  it('shows a masked message to everyone and refuses a banned one with the backend\'s sentence, keeping its text', async (t) => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const logged = collectConsole(page);
    await page.goto(`${server.httpUrl}/demo/chat/#moderated`);
    await page.locator('#name').fill('Ana');
    await page.locator('#name').press('Enter');
    await page.locator('#state[data-state="connected"]').waitFor({ timeout: 5000 });

    await page.locator('#text').fill('oh darn it');
    await page.locator('#text').press('Enter');
    await page.locator('#messages > li.message .text', { hasText: 'oh d**n it' }).waitFor({ timeout: 5000 });

    await page.locator('#text').fill('buy spam now');
    await page.locator('#text').press('Enter');
    await page.locator('#messages > li.notice', { hasText: 'Not sent: message refused by moderation' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#text').inputValue(), 'buy spam now', 'the refused text stays in the box');
    assert.equal(await page.locator('#messages > li.message').count(), 1);
    t.diagnostic(await saveScreenshot(page, 'chat-moderation'));
    assert.deepEqual([...logged.texts('error'), ...logged.pageErrors], []);
  });
});
