/**
 * The game demo at /demo/game/ in headless Chromium, against a dev-mode canal running the demos
 * (as `npm start` does): two pages join one room, one steers, the other sees it move, and
 * closing a page removes its player. Assertions read the DOM (the scoreboard carries each
 * player's server position as data-x/data-y) and what the server publishes to game:<room>,
 * received by a Node centrifuge client.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Snapshot } from '../../src/demos/game-sim.js';
import { collectConsole, saveScreenshot, startBrowser, type ConsoleLog } from '../helpers/browser.js';
import { collect, type Collected, connectedCentrifuge, subscribe } from '../helpers/centrifuge.js';
import { startDemoServer } from '../helpers/demo-server.js';
import { presentClients } from '../helpers/server-api.js';
import { sleep, until } from '../helpers/wait.js';

const DESKTOP = { width: 1200, height: 800 };
const PHONE = { width: 390, height: 844 };
/** The arena's width and a player's radius (DEFAULT_RULES in src/demos/game-sim.ts). */
const ARENA_WIDTH = 800;
const PLAYER_RADIUS = 14;

interface GamePage {
  readonly page: Page;
  readonly logged: ConsoleLog;
  /** The player id the server gave this page. */
  readonly id: string;
}

/** A player's entry in a page's scoreboard, as the DOM shows it. */
interface Entry {
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly score: number;
}

/** The scoreboard entry of player `id` on `page`, or undefined when it is not listed. */
async function entry(page: Page, id: string): Promise<Entry | undefined> {
  const li = page.locator(`#scoreboard li[data-id="${id}"]`);
  if ((await li.count()) === 0) return undefined;
  const [name, x, y, score] = await Promise.all(['name', 'x', 'y', 'score'].map((key) => li.getAttribute(`data-${key}`)));
  return { name: name ?? '', x: Number(x), y: Number(y), score: Number(score) };
}

/** The texts of the events list of `page`, oldest first. */
async function eventTexts(page: Page): Promise<string[]> {
  return (await page.locator('#events li').allTextContents()).reverse();
}

/** The latest snapshot the server published, as the Node client received it. */
function latest(snapshots: Collected<{ data: unknown }>): Snapshot {
  const last = snapshots.items.at(-1);
  assert.ok(last, 'the server published no snapshot');
  return last.data as Snapshot;
}

/** Presses `key` on `page` for `ms` milliseconds. */
async function hold(page: Page, key: string, ms: number): Promise<void> {
  await page.keyboard.down(key);
  await sleep(ms);
  await page.keyboard.up(key);
}

/** Waits until player `id`'s position on `page` stops changing (the key is up and the last tick arrived). */
async function settled(page: Page, id: string): Promise<Entry> {
  let before = await entry(page, id);
  for (;;) {
    await sleep(150); // three ticks
    const now = await entry(page, id);
    assert.ok(now && before, `player ${id} is listed on the page`);
    if (now.x === before.x && now.y === before.y) return now;
    before = now;
  }
}

describe('the game demo page /demo/game/', async () => {
  const browser: Browser = await startBrowser();
  const server = await startDemoServer();

  /** Opens the game in room `room` and resolves once the page is connected (watching the room, not playing). */
  async function openPage(t: TestContext, room: string, viewport = DESKTOP): Promise<{ page: Page; logged: ConsoleLog; frames: string[] }> {
    const page = await browser.newPage({ viewport });
    t.after(() => page.close());
    const logged = collectConsole(page);
    // What the page's WebSocket receives, to see the snapshots arrive as deltas.
    const frames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
    const response = await page.goto(`${server.httpUrl}/demo/game/?room=${room}`);
    assert.equal(response?.status(), 200);
    await page.locator('#state[data-state="connected"]').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#room').inputValue(), room, 'the room comes from ?room=');
    return { page, logged, frames };
  }

  /** Types `name` and presses Play; resolves once the server answered with a player id and the page lists it. */
  async function joinAs(opened: { page: Page; logged: ConsoleLog; frames: string[] }, name: string): Promise<GamePage> {
    const { page } = opened;
    await page.locator('#name').fill(name);
    await page.locator('#join').click();
    await page.locator('#game:not([data-player=""])').waitFor({ timeout: 5000 });
    const id = (await page.locator('#game').getAttribute('data-player')) ?? '';
    await page.locator(`#scoreboard li[data-id="${id}"][data-me="true"]`).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#leave').isVisible(), true, 'Leave is offered while playing');
    return { ...opened, id };
  }

  /** Console errors and uncaught exceptions of a page, which should be none. */
  function problems(logged: ConsoleLog): string[] {
    return [...logged.entries.filter((e) => e.type === 'error').map((e) => `${e.text} (${e.url})`), ...logged.pageErrors];
  }

  it('shows a player that steers right moving right on another page, and removes it when its page closes', async (t) => {
    const room = 'e2e-two-tabs';
    // What the server publishes: the source of truth the pages draw.
    const watcher = await connectedCentrifuge(t, server);
    const snapshots = collect(await subscribe(watcher, `game:${room}`), 'publication');

    const [pageA, pageB] = await Promise.all([openPage(t, room), openPage(t, room, PHONE)]);
    const a = await joinAs(pageA, 'Ana');
    const b = await joinAs(pageB, 'Bo'); // after Ana, so that Ana's page sees Bo join
    assert.notEqual(a.id, b.id);

    // Each page lists both players; A was told that Bo joined.
    await b.page.locator(`#scoreboard li[data-id="${a.id}"]`).waitFor({ timeout: 5000 });
    await a.page.locator(`#scoreboard li[data-id="${b.id}"]`).waitFor({ timeout: 5000 });
    assert.deepEqual((await entry(b.page, a.id))?.name, 'Ana');
    await until(async () => (await eventTexts(a.page)).includes('Bo joined.'), 'page A shows "Bo joined."');
    assert.deepEqual(await eventTexts(b.page), ['You joined room e2e-two-tabs as Bo.']);

    // Spawned near the right wall? Walk left first, so that moving right has room to show.
    let start = await settled(b.page, a.id);
    if (start.x > ARENA_WIDTH - 150) {
      await a.page.locator('#arena').focus();
      await hold(a.page, 'ArrowLeft', 800);
      start = await settled(b.page, a.id);
    }

    await a.page.locator('#arena').focus();
    await hold(a.page, 'ArrowRight', 500);
    const moved = await settled(b.page, a.id);
    // 500 ms at 220 units/s is 110 units; allow for the RPCs' and ticks' timing.
    assert.ok(moved.x - start.x > 60, `page B saw Ana move right: x ${start.x} -> ${moved.x}`);
    assert.equal(moved.y, start.y, 'ArrowRight does not move up or down');
    assert.deepEqual(await entry(a.page, a.id), moved, 'page A shows the same position');

    // The server agrees: its latest snapshot has Ana where the pages show her.
    await until(() => latest(snapshots).players.find((p) => p.id === a.id)?.x === moved.x, 'the server published Ana at the x the pages show');
    const onServer = latest(snapshots).players.find((p) => p.id === a.id);
    assert.deepEqual(onServer && { x: onServer.x, y: onServer.y, name: onServer.name }, { x: moved.x, y: moved.y, name: 'Ana' });
    assert.ok(latest(snapshots).players.some((p) => p.id === b.id), 'Bo plays too');

    // The game: namespace allows fossil deltas and the page asks for them: after the first
    // snapshot, they arrive as deltas, and the page still draws what the server published.
    const deltas = pageB.frames.filter((f) => f.includes(`"channel":"game:${room}"`) && f.includes('"delta":true'));
    assert.ok(deltas.length > 5, `page B received ${deltas.length} snapshots as deltas`);

    t.diagnostic(await saveScreenshot(a.page, 'game-desktop-ana-moved'));
    t.diagnostic(await saveScreenshot(b.page, 'game-390px-bo-sees-ana'));

    // Ana closes her tab: her connection ends, the server removes her, Bo's page says so.
    await a.page.close();
    await b.page.locator(`#scoreboard li[data-id="${a.id}"]`).waitFor({ state: 'detached', timeout: 5000 });
    await until(async () => (await eventTexts(b.page)).includes('Ana left.'), 'page B shows "Ana left."');
    await until(() => !latest(snapshots).players.some((p) => p.id === a.id), 'the server published a snapshot without Ana');
    assert.deepEqual(latest(snapshots).players.map((p) => p.id), [b.id]);
    assert.deepEqual(await eventTexts(b.page), ['You joined room e2e-two-tabs as Bo.', 'Ana left.']);
    // The connected count follows presence (Ana's leave push), which may come after the snapshot.
    const status = `Room ${room} · 1 player · 2 connected`;
    await until(async () => (await b.page.locator('#status').textContent()) === status,
      async () => `page B's status says "${await b.page.locator('#status').textContent()}", not "${status}"; its presence: ${JSON.stringify(await presentClients(server, `game:${room}`))}`);
    t.diagnostic(await saveScreenshot(b.page, 'game-390px-after-ana-left'));
    assert.deepEqual(problems(a.logged), []);
    assert.deepEqual(problems(b.logged), []);
  });

  it('steers with the on-screen pad on a 390 px wide screen, fits it without scrolling sideways, and leaves with Leave', async (t) => {
    const room = 'e2e-phone';
    const watcher = await connectedCentrifuge(t, server);
    const snapshots = collect(await subscribe(watcher, `game:${room}`), 'publication');
    const { page, logged, id } = await joinAs(await openPage(t, room, PHONE), 'Pad');

    assert.equal(await page.evaluate<number>('document.documentElement.scrollWidth'), PHONE.width, 'no horizontal scroll at 390 px');
    const down = page.getByRole('button', { name: 'Down' });
    const up = page.getByRole('button', { name: 'Up' });
    assert.equal(await down.isVisible(), true, 'the pad shows on a narrow screen');

    const start = await settled(page, id);
    // Walk away from the wall the pad will push towards, if spawned close to it.
    const pad = start.y > 350 ? up : down;
    await pad.scrollIntoViewIfNeeded();
    const box = await pad.boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await until(async () => Math.abs(((await entry(page, id))?.y ?? start.y) - start.y) > 40, 'the held pad moved the dot over 40 px');
    assert.equal(await pad.getAttribute('aria-pressed'), 'true');
    await page.mouse.up();
    const moved = await settled(page, id);
    assert.ok(Math.abs(moved.y - start.y) > 40, `the pad moved the dot: y ${start.y} -> ${moved.y}`);
    assert.equal(moved.x, start.x);
    assert.equal(Math.sign(moved.y - start.y), pad === down ? 1 : -1);
    t.diagnostic(await saveScreenshot(page, 'game-390px-pad'));

    await page.locator('#leave').click();
    await page.locator('#game[data-player=""]').waitFor({ timeout: 5000 });
    await until(() => latest(snapshots).players.length === 0, 'the server published the room empty');
    await until(async () => (await eventTexts(page)).includes('You left room e2e-phone.'), 'the page says it left');
    assert.deepEqual(await eventTexts(page), ['You joined room e2e-phone as Pad.', 'You left room e2e-phone.'], 'its own player is "you", never announced by name');
    assert.equal(await page.locator('#join').isVisible(), true, 'Play is offered again');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), 'join', 'the focus moves from the hidden Leave to Play');
    await page.locator('#scoreboard li.empty').waitFor({ timeout: 5000 });
    t.diagnostic(await saveScreenshot(page, 'game-390px-left'));
    assert.deepEqual(problems(logged), []);
  });
});

/**
 * Evaluated in the page: the bounding box, in canvas pixels, of the pixels in the colour of the
 * ring around one's own player (--accent, #0b5fff in the light theme).
 */
const RING_BOX = `(() => {
  const canvas = document.getElementById('arena');
  const { data, width, height } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let [minX, minY, maxX, maxY] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (Math.abs(data[i] - 11) < 40 && Math.abs(data[i + 1] - 95) < 40 && data[i + 2] > 215) {
        [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
      }
    }
  }
  return { minX, width: maxX - minX + 1, height: maxY - minY + 1 };
})()`;

describe('the game arena at its walls', async () => {
  const browser: Browser = await startBrowser();
  // Fast players, so that one reaches a wall within a few ticks.
  const server = await startDemoServer({}, { game: { rules: { speed: 4000 } } });

  it('draws the whole of a player standing against the left wall, its "you" ring included', async (t) => {
    const page = await browser.newPage({ viewport: DESKTOP });
    t.after(() => page.close());
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${server.httpUrl}/demo/game/?room=e2e-wall`);
    await page.locator('#state[data-state="connected"]').waitFor({ timeout: 5000 });
    await page.locator('#name').fill('Wall');
    await page.locator('#join').click();
    await page.locator('#game:not([data-player=""])').waitFor({ timeout: 5000 });
    const id = (await page.locator('#game').getAttribute('data-player')) ?? '';

    await page.locator('#arena').focus();
    await page.keyboard.down('ArrowLeft');
    await page.locator(`#scoreboard li[data-id="${id}"][data-x="${PLAYER_RADIUS}"]`).waitFor({ timeout: 5000 });
    await page.keyboard.up('ArrowLeft');
    await settled(page, id);
    // Two frames after the position settled: what is on the canvas is the player at rest.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    t.diagnostic(await saveScreenshot(page, 'game-player-at-left-wall'));

    const ring = await page.evaluate<{ minX: number; width: number; height: number }>(RING_BOX);
    assert.ok(ring.width > 10, `the ring is drawn: ${JSON.stringify(ring)}`);
    assert.ok(ring.minX > 0, `the ring does not touch the canvas's left edge: ${JSON.stringify(ring)}`);
    assert.ok(Math.abs(ring.width - ring.height) <= 2, `the ring is round, not cut by the edge: ${JSON.stringify(ring)}`);
  });
});
