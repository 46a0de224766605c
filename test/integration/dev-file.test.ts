/**
 * The dev secrets file (issue 13, item 8): the server makes it private even where a file or a
 * link of that name was planted first, the CLI ignores a file that is not private, and the file
 * goes away when the server exits, crash included.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { devFilePath, readDevFile, writeDevFile } from '../../src/cli/dev-file.js';
import { waitForLine } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.ts', import.meta.url));

/** A private temporary folder used as TMPDIR, removed after the file. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'canal-devfile-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the dev secrets file', () => {
  const dir = scratch();
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it('replaces a planted world-writable file with a new file of mode 0600', () => {
    const path = devFilePath(41001);
    writeFileSync(path, '{"url":"http://evil.example","api_key":"planted"}', { mode: 0o666 });
    writeDevFile(41001, { url: 'http://127.0.0.1:41001', api_key: 'real' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readDevFile(41001), { url: 'http://127.0.0.1:41001', api_key: 'real' });
  });

  it('never writes through a planted link: the link is replaced and its target is untouched', () => {
    const target = join(dir, 'victim.txt');
    writeFileSync(target, 'keep me');
    const path = devFilePath(41002);
    symlinkSync(target, path);
    writeDevFile(41002, { url: 'http://127.0.0.1:41002' });
    assert.equal(readFileSync(target, 'utf8'), 'keep me');
    assert.ok(lstatSync(path).isFile());
  });

  it('reads nothing from a file that others may write', () => {
    writeFileSync(devFilePath(41003), '{"url":"http://evil.example"}', { mode: 0o644 });
    assert.equal(readDevFile(41003), undefined, '0644 is readable by others');
    writeFileSync(devFilePath(41004), '{"url":"http://evil.example"}', { mode: 0o600 });
    assert.deepEqual(readDevFile(41004), { url: 'http://evil.example' }, 'a private file of this user is read');
  });

  it('is removed when the terminal closes (SIGHUP), after a graceful stop', async () => {
    const tmp = scratch();
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, 'serve', '--port', '0'], {
      env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    after(() => child.kill('SIGKILL'));
    const line = await waitForLine(child, /canal listening on ws:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const port = Number(/:(\d+) /.exec(line)![1]);
    assert.equal(existsSync(join(tmp, `canal-dev-${port}.json`)), true, 'the dev file is written at start');
    const exited = once(child, 'exit');
    child.kill('SIGHUP');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'SIGHUP stops the server as SIGTERM does');
    assert.equal(existsSync(join(tmp, `canal-dev-${port}.json`)), false, 'the dev file outlived SIGHUP');
  });

  it('is removed when the server dies of an uncaught exception', async () => {
    const tmp = scratch();
    // A preload that crashes the server as soon as its dev file exists.
    const crash = join(tmp, 'crash.mjs');
    writeFileSync(crash, `import { existsSync, readdirSync } from 'node:fs';
setInterval(() => { if (readdirSync(${JSON.stringify(tmp)}).some((f) => f.startsWith('canal-dev-'))) throw new Error('boom'); }, 10);
`);
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', crash, BIN, 'serve', '--port', '0'], {
      env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    after(() => child.kill('SIGKILL'));
    const line = await waitForLine(child, /canal listening on ws:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const port = Number(/:(\d+) /.exec(line)![1]);
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.notEqual(code, 0, 'the server crashed');
    assert.equal(existsSync(join(tmp, `canal-dev-${port}.json`)), false, 'the dev file outlived the crash');
  });
});
