/**
 * The drop-in proof: the seed's client.html, unchanged and opened from disk, against canal
 * started the way a user starts it (no flags, so the default 127.0.0.1:8765), on Node, on Bun,
 * and as the standalone executable run from an empty folder, one after the other. This is the
 * only test that binds 8765.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { collectConsole, startBrowser } from '../helpers/browser.js';
import { buildBinary, type Binary } from '../helpers/binary.js';
import { RUNTIMES, spawnCli, waitForLine, type SpawnOptions } from '../helpers/cli.js';

const SEED_CLIENT = fileURLToPath(new URL('../fixtures/seed/client.html', import.meta.url));
/** sha256 of the seed's client.html (/work/shared/seed/client.html): the fixture is that file, byte for byte. */
const SEED_CLIENT_SHA256 = '0c03710431dd2fe8e03e62431830e26f8885878b35759f4baae6cd72c5a60b43';
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 8765;

/** Rejects with a message a person can act on when something already listens on host:port. */
async function assertPortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is in use: this test starts canal with no flags, which binds the default ${host}:${port}, so it needs that port free. Stop whatever listens there (ss -ltnp 'sport = :${port}') and run it again.`
        : `cannot check that ${host}:${port} is free: ${(err as Error).message}`,
    );
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** Resolves with the exit code once `child` has exited (at once when it already has). */
async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('the seed client.html against `canal` started with no flags', async () => {
  const browser = await startBrowser();
  const binary: Binary = await buildBinary();
  const ways: ReadonlyArray<readonly [string, SpawnOptions]> = [
    ...RUNTIMES.map((runtime) => [`canal on ${runtime}`, { runtime }] as const),
    ['the standalone executable', { binary }],
  ];
  let server: ChildProcess | undefined;
  after(() => {
    // A failed test must not leave a server on 8765 for the next run.
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });

  it('uses a fixture that is the seed client.html byte for byte', () => {
    const digest = createHash('sha256').update(readFileSync(SEED_CLIENT)).digest('hex');
    assert.equal(digest, SEED_CLIENT_SHA256, `${SEED_CLIENT} differs from the seed's client.html; restore it, do not edit it`);
  });

  for (const [name, how] of ways) it(`logs "he recibido un mensaje: echo: hello" when opened from disk, then "closed" when ${name} stops on SIGTERM and exits 0`, async () => {
    await assertPortFree(DEFAULT_HOST, DEFAULT_PORT);
    server = spawnCli([], {}, how);
    await waitForLine(server, /^canal listening on ws:\/\/127\.0\.0\.1:8765(?: |$)/);

    const page = await browser.newPage();
    const logged = collectConsole(page);
    await page.goto(pathToFileURL(SEED_CLIENT).href);
    await logged.waitFor('he recibido un mensaje: echo: hello');

    server.kill('SIGTERM');
    assert.equal(await exitCode(server), 0, 'canal should exit 0 on SIGTERM');
    await logged.waitFor('closed');
    assert.deepEqual(logged.entries.map(({ type, text }) => ({ type, text })), [
      { type: 'log', text: 'he recibido un mensaje: echo: hello' },
      { type: 'log', text: 'closed' },
    ]);
    assert.deepEqual(logged.pageErrors, []);
    await page.close();
  });
});
