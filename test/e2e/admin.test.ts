/**
 * The admin page at /admin in headless Chromium, against a canal with admin_password and
 * admin_secret: a wrong password, logging in, each action (nodes, connections and channels;
 * a channel's presence and history; publishing; disconnecting a user), an expired session and
 * logging out. What the page does is checked where it lands: Node centrifuge clients receive
 * the publication and the disconnect.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { sessionKey, signSession } from '../../src/http/admin-session.js';
import { collectConsole, saveScreenshot, startBrowser, type ConsoleLog } from '../helpers/browser.js';
import { clientId, connectedCentrifuge, once, subscribe } from '../helpers/centrifuge.js';
import { startServer } from '../helpers/server.js';
import { HMAC_SECRET, hmacKey, mintToken } from '../helpers/tokens.js';

const PASSWORD = 'admin page e2e password';
const SECRET = 'admin-e2e-secret-0123456789-abcdefghijkl';
const ROOM = 'chat:admin-e2e';

describe('the admin page /admin', async () => {
  const browser = await startBrowser();
  // Dev mode for its chat namespace (presence and history); the admin settings are configured.
  const server = await startServer({ admin_password: PASSWORD, admin_secret: SECRET, token_hmac_secret: HMAC_SECRET });

  /** A connected client as `user`, subscribed to ROOM. */
  async function member(t: TestContext, user: string) {
    const token = await mintToken(hmacKey(HMAC_SECRET), { sub: user, info: { name: user } });
    const client = await connectedCentrifuge(t, server, { token, minReconnectDelay: 60_000 });
    const sub = await subscribe(client, ROOM);
    return { client, sub, id: clientId(client) };
  }

  /** A fresh browser (own cookies) on /admin, showing the login form. */
  async function openAdmin(t: TestContext): Promise<{ context: BrowserContext; page: Page; logged: ConsoleLog }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const logged = collectConsole(page);
    const response = await page.goto(`${server.httpUrl}/admin`);
    assert.equal(response?.status(), 200);
    await page.locator('#login').waitFor({ timeout: 5000 });
    return { context, page, logged };
  }

  async function logIn(page: Page, password = PASSWORD): Promise<void> {
    await page.locator('#password').fill(password);
    await page.locator('#login-button').click();
  }

  /** Logged in, with the tables filled. */
  async function loggedIn(t: TestContext) {
    const opened = await openAdmin(t);
    await logIn(opened.page);
    await opened.page.locator('#status', { hasText: 'Updated at' }).waitFor({ timeout: 5000 });
    return opened;
  }

  /** The rows of table `id`, as cell texts. */
  function rows(page: Page, id: string): Promise<string[][]> {
    return page.locator(`#${id} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  }

  function problems(logged: ConsoleLog): string[] {
    // A 401 or 429 answer is logged by Chromium as a failed resource load: expected here.
    return [...logged.texts('error').filter((text) => !/status of 40[13]|status of 429/.test(text)), ...logged.pageErrors];
  }

  it('refuses a wrong password with a clear message, then logs in and shows nodes, connections and channels with subscriber counts', async (t) => {
    await member(t, 'ana');
    await member(t, 'ben');
    const { page, logged } = await openAdmin(t);
    assert.equal(await page.locator('#console').isHidden(), true, 'nothing but the login before logging in');

    await logIn(page, 'not the password');
    await page.locator('#login-message', { hasText: 'Wrong password.' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#console').isHidden(), true);
    t.diagnostic(await saveScreenshot(page, 'admin-wrong-password'));

    await logIn(page);
    await page.locator('#status', { hasText: 'Updated at' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#login').isHidden(), true);
    assert.match((await page.locator('#session').textContent()) ?? '', /^Logged in until /);

    const [node] = await rows(page, 'nodes');
    assert.equal(node?.[0], server.canal.node.name);
    assert.equal(node?.[2], '2', 'two protocol clients');
    assert.match(await page.locator('#connections').innerText(), /protocol clients\s+2/);
    const channels = await rows(page, 'channels');
    assert.deepEqual(channels.find((r) => r[0] === ROOM)?.slice(0, 2), [ROOM, '2']);
    t.diagnostic(await saveScreenshot(page, 'admin-overview'));
    assert.deepEqual(problems(logged), []);
  });

  it('opens a channel: who is subscribed, and its history newest first', async (t) => {
    await member(t, 'carla');
    await server.canal.publish(ROOM, { text: 'first' });
    await server.canal.publish(ROOM, 'second, a string');
    const { page, logged } = await loggedIn(t);

    await page.getByRole('button', { name: `Open ${ROOM}` }).click();
    await page.locator('#history li').first().waitFor({ timeout: 5000 });
    const presence = await rows(page, 'presence');
    assert.ok(presence.some((r) => r[1] === 'carla' && r[2] === '{"name":"carla"}'), JSON.stringify(presence));
    const history = await page.locator('#history li').allTextContents();
    assert.deepEqual(history.slice(0, 2).map((line) => line.replace(/^#\d+ /, '')), ['server"second, a string"', 'server{"text":"first"}']);
    t.diagnostic(await saveScreenshot(page, 'admin-channel'));
    assert.deepEqual(problems(logged), []);
  });

  it('publishes JSON to a channel, and says what is wrong with data that is not JSON', async (t) => {
    const { sub } = await member(t, 'dora');
    const { page, logged } = await loggedIn(t);
    await page.locator('#channel').fill(ROOM);
    await page.locator('#channel-form button').click();
    await page.locator('#channel-details').waitFor({ timeout: 5000 });

    await page.locator('#data').fill('{"text": oops}');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('#channel-status[data-kind="error"]', { hasText: 'The data is not JSON' }).waitFor({ timeout: 5000 });

    const received = once(sub, 'publication');
    await page.locator('#data').fill('{"text": "from the admin page"}');
    await page.getByRole('button', { name: 'Publish' }).click();
    assert.deepEqual((await received).data, { text: 'from the admin page' });
    await page.locator('#channel-status[data-kind="ok"]', { hasText: `Published to ${ROOM} at offset` }).waitFor({ timeout: 5000 });
    await page.locator('#history li', { hasText: '{"text":"from the admin page"}' }).waitFor({ timeout: 5000 });
    assert.deepEqual(problems(logged), []);
  });

  it('disconnects a user from the presence list and from the form', async (t) => {
    const eve = await member(t, 'eve');
    const finn = await member(t, 'finn');
    const { page, logged } = await loggedIn(t);
    await page.getByRole('button', { name: `Open ${ROOM}` }).click();

    const eveGone = once(eve.client, 'disconnected');
    await page.getByRole('button', { name: `Disconnect client ${eve.id} of eve` }).click();
    assert.equal((await eveGone).code, 3503);
    await page.locator('#channel-status', { hasText: `Disconnected client ${eve.id} (user eve).` }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator(`#presence tr[data-client="${eve.id}"]`).count(), 0);

    const finnGone = once(finn.client, 'disconnected');
    await page.locator('#user').fill('finn');
    await page.locator('#disconnect-form button').click();
    assert.equal((await finnGone).code, 3503);
    await page.locator('#disconnect-status', { hasText: 'Disconnected every connection of user finn.' }).waitFor({ timeout: 5000 });
    t.diagnostic(await saveScreenshot(page, 'admin-disconnected'));
    assert.deepEqual(problems(logged), []);
  });

  it('asks to log in again when the session has expired, on opening the page and on the next action', async (t) => {
    const { context, page, logged } = await loggedIn(t);
    const expired = signSession(sessionKey(SECRET, PASSWORD), Date.now() - 1000);
    await context.addCookies([{ name: 'canal_admin', value: expired, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);

    await page.locator('#refresh').click();
    await page.locator('#login-message', { hasText: 'Your session expired. Log in again.' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#console').isHidden(), true);

    await page.reload();
    await page.locator('#login-message', { hasText: 'Your session expired. Log in again.' }).waitFor({ timeout: 5000 });
    t.diagnostic(await saveScreenshot(page, 'admin-expired'));
    await logIn(page);
    await page.locator('#status', { hasText: 'Updated at' }).waitFor({ timeout: 5000 });
    assert.deepEqual(problems(logged), []);
  });

  it('logs out: the page and its API ask for the password again', async (t) => {
    const { context, page } = await loggedIn(t);
    await page.locator('#logout').click();
    await page.locator('#login-message', { hasText: 'You are logged out.' }).waitFor({ timeout: 5000 });
    assert.deepEqual((await context.cookies()).filter((c) => c.name === 'canal_admin'), []);
    await page.reload();
    await page.locator('#login').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#login-message').textContent(), '');
  });
});
