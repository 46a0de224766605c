/**
 * `npm test` leaves nothing in the temp dir (issue 16, item 8): test files and helpers that write
 * there, run in a child `node --test` with a temp dir of its own, leave it as they found it.
 * (tsx keeps its compile cache there by design; that is tsx's, not a test's.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/readme.js';

describe('the temp dir after tests', () => {
  it('holds nothing from the helpers (a killed dev server, a screenshot) or from the README example test', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'canal-tmp-check-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CANAL_') && !k.startsWith('NODE_TEST')));
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--test', '--test-reporter=dot',
      'test/fixtures/tmp-cleanup/leftovers.ts', 'test/integration/readme-example.test.ts',
    ], { cwd: ROOT, env: { ...env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, output);
    assert.deepEqual(readdirSync(dir).filter((name) => !name.startsWith('tsx-')), []);
  });
});
