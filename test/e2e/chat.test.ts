/**
 * The chat demo at /demo/chat/ in headless Chromium: people in one room see each other's
 * messages and presence, a late arrival sees the history, a page that was offline gets what it
 * missed exactly once, and user text is shown as text. Each person is a separate browser
 * context (own localStorage, own network), as separate people would be.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { saveScreenshot, startBrowser, collectConsole, type ConsoleLog } from '../helpers/browser.js';
import { startDemoServer } from '../helpers/demo-server.js';
import { connectClient } from '../helpers/ws-client.js';
import { until } from '../helpers/wait.js';

/** One person with the chat open. */
interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly logged: ConsoleLog;
  readonly dialogs: string[];
}

/** One message line as shown: author and text. */
interface Line {
  readonly author: string;
  readonly text: string;
}

/** The messages on screen, top to bottom (notices left out). */
async function shownMessages(page: Page): Promise<Line[]> {
  return page.locator('#messages > li.message').evaluateAll((items) => items.map((li) => ({
    author: li.querySelector('.author')?.textContent ?? '',
    text: li.querySelector('.text')?.textContent ?? '',
  })));
}

/** The "here now" list as shown. */
async function shownPresence(page: Page): Promise<string[]> {
  return page.locator('#who > li').allTextContents();
}

/** Waits until a message with exactly `text` is on screen. */
async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.locator('#messages > li.message .text', { hasText: text }).first().waitFor({ timeout: 5000 });
}

/** Waits until `count` messages are on screen. */
async function waitForMessageCount(page: Page, count: number): Promise<void> {
  await page.locator('#messages > li.message').nth(count - 1).waitFor({ timeout: 5000 });
}

/** Waits until a notice containing `text` is on screen. */
async function waitForNotice(page: Page, text: string): Promise<void> {
  await page.locator('#messages > li.notice', { hasText: text }).first().waitFor({ timeout: 5000 });
}

/** Waits until the "here now" list is exactly `names` (sorted as the page sorts). */
async function waitForPresence(page: Page, names: string[]): Promise<void> {
  await until(
    async () => JSON.stringify(await shownPresence(page)) === JSON.stringify(names),
    async () => `presence never became ${JSON.stringify(names)}; it shows ${JSON.stringify(await shownPresence(page))}`,
  );
}

/** Whether the page fits its viewport's width (no sideways scrolling). */
async function fitsWidth(page: Page): Promise<boolean> {
  return (await page.evaluate('document.documentElement.scrollWidth <= innerWidth')) === true;
}

/** Types `text` in the message box and presses Enter, as a person would. */
async function say(page: Page, text: string): Promise<void> {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
  // The box empties once the server accepted the publish.
  await until(async () => (await page.locator('#text').inputValue()) === '', async () => `"${text}" was never sent`);
}

describe('the chat demo page /demo/chat/', async () => {
  const browser = await startBrowser();
  const server = await startDemoServer();

  /** Calls the server API (history, presence...) and returns its result. */
  async function api(method: string, params: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${server.httpUrl}/api/${method}`, {
      method: 'POST',
      headers: { 'x-api-key': server.canal.apiKey!, 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
    const body = (await res.json()) as { result?: Record<string, unknown>; error?: unknown };
    assert.equal(body.error, undefined, `api ${method}: ${JSON.stringify(body.error)}`);
    return body.result ?? {};
  }

  /** Opens the chat in a fresh browser context as `name`, in `room`, and waits until it is in. */
  async function enter(name: string, room: string, viewport = { width: 1100, height: 800 }): Promise<Person> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const logged = collectConsole(page);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const response = await page.goto(`${server.httpUrl}/demo/chat/#${room}`);
    assert.equal(response?.status(), 200);
    await page.locator('#name').fill(name);
    await page.locator('#name').press('Enter');
    await page.locator('#state[data-state="connected"]').waitFor({ timeout: 5000 });
    await waitForNotice(page, `You are in #${room}.`);
    return { context, page, logged, dialogs };
  }

  /** The page's console errors and uncaught exceptions: there should be none. */
  function problems(person: Person, expected?: RegExp): string[] {
    return [...person.logged.texts('error'), ...person.logged.pageErrors].filter((text) => !expected?.test(text));
  }

  it('shows each person the other\'s messages, with the name from their token, and both in "here now"', async (t) => {
    const [ana, ben] = await Promise.all([enter('Ana', 'two'), enter('Ben', 'two')]);
    t.after(() => Promise.all([ana.context.close(), ben.context.close()]));
    await waitForPresence(ana.page, ['Ana (you)', 'Ben']);
    await waitForPresence(ben.page, ['Ana', 'Ben (you)']);

    await say(ana.page, 'hola Ben');
    await say(ben.page, 'hi Ana!');
    for (const page of [ana.page, ben.page]) {
      await waitForMessage(page, 'hi Ana!');
      assert.deepEqual(await shownMessages(page), [
        { author: 'Ana', text: 'hola Ben' },
        { author: 'Ben', text: 'hi Ana!' },
      ]);
    }
    assert.equal(await ana.page.locator('#messages li.message.mine').count(), 1, 'Ana\'s own message is marked as hers');

    const presence = (await api('presence', { channel: 'chat:two' })).presence as Record<string, { user: string }>;
    assert.deepEqual(Object.values(presence).map((p) => p.user).sort(), ['Ana', 'Ben']);
    const history = (await api('history', { channel: 'chat:two', limit: 10 })).publications as Array<{ data: unknown; info?: { conn_info?: unknown } }>;
    assert.deepEqual(history.map((p) => [p.data, p.info?.conn_info]), [
      [{ text: 'hola Ben' }, { name: 'Ana' }],
      [{ text: 'hi Ana!' }, { name: 'Ben' }],
    ]);
    t.diagnostic(await saveScreenshot(ana.page, 'chat-two-people-desktop'));

    await ben.context.close();
    await waitForNotice(ana.page, 'Ben left');
    await waitForPresence(ana.page, ['Ana (you)']);
    assert.deepEqual(problems(ana), []);
  });

  it('shows someone who enters later the room\'s history, oldest first, each message once, announces them, and remembers their nickname', async (t) => {
    const ana = await enter('Ana', 'late');
    t.after(() => ana.context.close());
    for (const text of ['one', 'two', 'three']) await say(ana.page, text);
    await server.canal.publish('chat:late', { text: 'from the server' });
    await waitForMessage(ana.page, 'from the server');

    const cleo = await enter('Cleo', 'late', { width: 390, height: 844 });
    t.after(() => cleo.context.close());
    await waitForNotice(cleo.page, 'Above: the last 4 messages.');
    assert.deepEqual(await shownMessages(cleo.page), [
      { author: 'Ana', text: 'one' },
      { author: 'Ana', text: 'two' },
      { author: 'Ana', text: 'three' },
      { author: 'server', text: 'from the server' },
    ]);
    await waitForPresence(cleo.page, ['Ana', 'Cleo (you)']);
    await waitForNotice(ana.page, 'Cleo joined');
    await waitForPresence(ana.page, ['Ana (you)', 'Cleo']);
    assert.ok(await fitsWidth(cleo.page), 'nothing sticks out sideways on a 390 px phone');
    t.diagnostic(await saveScreenshot(cleo.page, 'chat-history-phone'));
    await cleo.page.emulateMedia({ colorScheme: 'dark' });
    t.diagnostic(await saveScreenshot(cleo.page, 'chat-history-phone-dark'));

    // Cleo's nickname is remembered: reopening the page goes straight back in, same history.
    await cleo.page.reload();
    await waitForNotice(cleo.page, 'Above: the last 4 messages.');
    assert.equal(await cleo.page.locator('#name').inputValue(), 'Cleo');
    assert.equal((await shownMessages(cleo.page)).length, 4);
    await waitForPresence(cleo.page, ['Ana', 'Cleo (you)']);
    assert.deepEqual(problems(cleo), []);
  });

  it('gives a page that was offline every message it missed, exactly once, and reloads the history when too much was missed', async (t) => {
    const [ana, ben] = await Promise.all([enter('Ana', 'offline'), enter('Ben', 'offline')]);
    t.after(() => Promise.all([ana.context.close(), ben.context.close()]));
    await say(ana.page, 'before');
    await waitForMessage(ben.page, 'before');

    // The browser loses its network: the client closes its socket, and its reconnects fail.
    await ben.context.setOffline(true);
    await ben.page.locator('#state[data-state="offline"]').waitFor({ timeout: 5000 });
    await waitForNotice(ana.page, 'Ben left');
    for (let i = 1; i <= 5; i++) await say(ana.page, `missed ${i}`);
    assert.deepEqual((await shownMessages(ben.page)).map((m) => m.text), ['before'], 'nothing arrives while offline');
    t.diagnostic(await saveScreenshot(ben.page, 'chat-offline'));

    await ben.context.setOffline(false);
    await ben.page.locator('#state[data-state="connected"]').waitFor({ timeout: 10_000 });
    await waitForNotice(ben.page, 'Back online. Messages sent while you were away follow.');
    await waitForMessageCount(ben.page, 6);
    await say(ben.page, 'back');
    // Each page shows it when it comes back through the room's subscription, in either order.
    await Promise.all([waitForMessage(ana.page, 'back'), waitForMessage(ben.page, 'back')]);
    assert.deepEqual((await shownMessages(ben.page)).map((m) => m.text), ['before', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'back']);
    await waitForPresence(ben.page, ['Ana', 'Ben (you)']);
    t.diagnostic(await saveScreenshot(ben.page, 'chat-recovered'));

    // Offline again while more than the room's history (100) is said: the gap cannot be
    // recovered, so the page says so and shows the latest 50 instead, still each once.
    await ben.context.setOffline(true);
    await ben.page.locator('#state[data-state="offline"]').waitFor({ timeout: 5000 });
    for (let i = 1; i <= 120; i++) await server.canal.publish('chat:offline', { text: `flood ${i}` });
    await ben.context.setOffline(false);
    await waitForNotice(ben.page, 'too much happened to recover every message: history reloaded');
    await waitForMessage(ben.page, 'flood 120');
    const texts = (await shownMessages(ben.page)).map((m) => m.text);
    const floods = Array.from({ length: 50 }, (_, i) => `flood ${71 + i}`);
    assert.deepEqual(texts, ['before', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'back', ...floods]);
    // Chromium logs each reconnect attempt that failed while offline; nothing else is expected.
    assert.deepEqual(problems(ben, /net::ERR_INTERNET_DISCONNECTED/), []);
  });

  it('refuses a nickname that presence shows in the room, leaving its owner the "(you)" marks, and lets the newcomer pick another', async (t) => {
    const ana = await enter('Ana', 'taken');
    t.after(() => ana.context.close());
    await say(ana.page, 'I am the real Ana');

    // Someone else, in another browser, types the same nickname.
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    const logged = collectConsole(page);
    await page.goto(`${server.httpUrl}/demo/chat/#taken`);
    await page.locator('#name').fill('Ana');
    await page.locator('#name').press('Enter');
    await page.locator('#join-error', { hasText: '“Ana” is already in #taken. Pick another nickname.' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#chat').isHidden(), true, 'the room is not shown to the second "Ana"');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'name', 'the nickname box has the focus');
    t.diagnostic(await saveScreenshot(page, 'chat-name-taken'));

    // The first Ana is still the only "Ana (you)", and her message is still the only one marked hers.
    await waitForPresence(ana.page, ['Ana (you)']);
    assert.equal(await ana.page.locator('#messages li.message.mine').count(), 1);
    const presence = (await api('presence', { channel: 'chat:taken' })).presence as Record<string, { user: string }>;
    assert.deepEqual(Object.values(presence).map((p) => p.user), ['Ana']);

    // Another nickname goes in.
    await page.locator('#name').fill('Ana B');
    await page.locator('#name').press('Enter');
    await waitForNotice(page, 'You are in #taken. Above: the last 1 message.');
    await waitForPresence(page, ['Ana', 'Ana B (you)']);
    assert.equal(await page.locator('#messages li.message.mine').count(), 0, 'the real Ana\'s message is not marked as the newcomer\'s');
    assert.equal(await page.locator('#join-error').textContent(), '');
    assert.deepEqual([...logged.texts('error'), ...logged.pageErrors], []);
  });

  it('shows text published as a JSON string by canal publish or a plain /raw/ client as the text, without quotes', async (t) => {
    const ana = await enter('Ana', 'plain');
    t.after(() => ana.context.close());
    await server.canal.publish('chat:plain', 'from canal publish');
    const plain = await connectClient(`${server.wsUrl}/raw/chat:plain`);
    t.after(() => plain.close());
    plain.send('hello from a plain client');
    await waitForMessage(ana.page, 'hello from a plain client');
    await server.canal.publish('chat:plain', { score: 2 });
    await waitForMessageCount(ana.page, 3);
    assert.deepEqual(await shownMessages(ana.page), [
      { author: 'server', text: 'from canal publish' },
      { author: 'anonymous', text: 'hello from a plain client' },
      { author: 'server', text: '{"score":2}' },
    ]);
  });

  it('shows a message that looks like HTML as text, creating no element and running no script', async (t) => {
    const ana = await enter('Ana', 'xss');
    t.after(() => ana.context.close());
    const html = '<img src=x onerror=alert(1)>';
    // Ana's message comes back from the server as a publication, like anyone else's.
    await say(ana.page, html);
    await waitForMessage(ana.page, html);
    // A name inside the data is ignored: the author comes from the token (here: none, the server).
    await server.canal.publish('chat:xss', { text: '<script>alert(2)</script>', name: '<b onmouseover=alert(3)>Admin</b>' });
    await waitForMessage(ana.page, '<script>alert(2)</script>');
    assert.deepEqual(await shownMessages(ana.page), [
      { author: 'Ana', text: html },
      { author: 'server', text: '<script>alert(2)</script>' },
    ]);
    assert.equal(await ana.page.locator('#messages img, #messages script, #messages b').count(), 0);
    await new Promise((r) => setTimeout(r, 200)); // give a would-be onerror the time to fire
    assert.deepEqual(ana.dialogs, []);
    t.diagnostic(await saveScreenshot(ana.page, 'chat-xss'));
  });
});
