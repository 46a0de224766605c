/**
 * Interop with the seed's own ecosystem: Python's `websockets` client (Debian's
 * python3-websockets under /usr/bin/python3) against the echo endpoint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RUNTIMES } from '../helpers/cli.js';
import { startServerOn } from '../helpers/runtime-server.js';

const PYTHON = '/usr/bin/python3';
const ECHO_CLIENT = fileURLToPath(new URL('../fixtures/python/echo_client.py', import.meta.url));

interface PythonRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `python3 args` to completion (killed after `timeoutMs`); never rejects on a non-zero exit. */
function runPython(args: readonly string[], timeoutMs = 15_000): Promise<PythonRun> {
  assert.ok(existsSync(PYTHON), `${PYTHON} not found: this test needs Debian's python3 with python3-websockets (npm test installs them when run as root)`);
  return new Promise((resolve) => {
    execFile(PYTHON, [...args], { timeout: timeoutMs, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

for (const runtime of RUNTIMES) describe(`a Python websockets client against the echo endpoint, canal on ${runtime}`, async () => {
  const server = await startServerOn(runtime);

  it('receives "echo: hello", "echo: ñandú 🚀", "echo: " and its binary bytes back in order, then closes with 1000', async (t) => {
    const version = await runPython(['-c', 'import websockets; print(websockets.__version__)']);
    assert.equal(version.code, 0, `python3 cannot import websockets (install python3-websockets): ${version.stderr}`);
    t.diagnostic(`python websockets ${version.stdout.trim()}`);

    const run = await runPython([ECHO_CLIENT, `${server.wsUrl}/`]);
    assert.equal(run.code, 0, `echo_client.py failed:\n${run.stderr}`);
    assert.equal(run.stderr, '');
    const replies = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
    assert.deepEqual(replies, [
      { type: 'text', data: 'echo: hello' },
      { type: 'text', data: 'echo: ñandú 🚀' },
      { type: 'text', data: 'echo: ' },
      { type: 'binary', hex: '00017f80feff' },
      { type: 'close', code: 1000 },
    ]);
  });
});
