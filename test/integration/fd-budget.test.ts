/**
 * Half-open connections and the file-descriptor budget (issue 13, item 8): connections that
 * never finish their request headers are closed after `header_timeout`, and canal keeps its
 * sockets under `ulimit -n`, so a flood of them past the limit cannot lock out /healthz for
 * more than a moment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForLine } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

/** GET /healthz; resolves with the status, or 0 when the connection failed or was closed. */
async function healthStatus(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0;
  }
}

describe('half-open connections past ulimit -n', () => {
  it('closes connections that send no headers within header_timeout, and /healthz answers again within seconds', async () => {
    // 200 descriptors for the whole process; 250 connections that never send a byte.
    const child = spawn('sh', ['-c', `ulimit -n 200 && exec "${process.execPath}" --import tsx "${BIN}" serve --no-dev --port 0 --header-timeout 1s --log-level error`], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Killed at the end: without dev mode it leaves no secrets file behind.
    after(() => child.kill('SIGKILL'));
    const line = await waitForLine(child, /canal listening on ws:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)![1]);
    const url = `http://127.0.0.1:${port}`;
    assert.equal(await healthStatus(url), 200);

    const sockets: Socket[] = [];
    let closedByServer = 0;
    after(() => sockets.forEach((s) => s.destroy()));
    await Promise.all(Array.from({ length: 250 }, () => new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      sockets.push(s);
      s.on('error', () => {});
      s.resume(); // read what the server sends, so its close is seen
      s.on('close', () => closedByServer++);
      s.on('connect', () => resolve());
      s.on('close', () => resolve());
    })));

    // Within header_timeout (1 s, checked every 0.5 s) and a margin for a loaded machine, every
    // idle connection is closed; without header_timeout none would be, ever.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && closedByServer < 250) await new Promise((r) => setTimeout(r, 100));
    assert.equal(closedByServer, 250, `the server closed only ${closedByServer} of 250 idle connections within 15 s`);
    let status = 0;
    const healthy = Date.now() + 10_000;
    while (Date.now() < healthy && (status = await healthStatus(url)) !== 200) await new Promise((r) => setTimeout(r, 200));
    assert.equal(status, 200, '/healthz answers once they are gone');
  });
});
