/**
 * The demo pages' scripts stay small and share what they have in common (issue 10 item 6):
 * where to connect and the connection badge come from web/demo/shared/, and no page script
 * grows into one file that does everything.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const DEMO = fileURLToPath(new URL('../../../web/demo/', import.meta.url));
/** STYLE.md: no file past ~600 lines; a page script well below it. */
const MAX_LINES = 500;

function scripts(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return scripts(path);
    return name.endsWith('.js') ? [path] : [];
  });
}

const pages = scripts(DEMO).map((path) => ({ name: relative(DEMO, path), text: readFileSync(path, 'utf8') }));

describe('the demo pages\' scripts', () => {
  it(`are each at most ${MAX_LINES} lines`, () => {
    const long = pages.map((p) => ({ name: p.name, lines: p.text.split('\n').length })).filter((p) => p.lines > MAX_LINES);
    assert.deepEqual(long, []);
  });

  it('build the /connection/websocket URL only in shared/connection.js', () => {
    const own = pages.filter((p) => p.name !== 'shared/connection.js' && p.text.includes('/connection/websocket'));
    assert.deepEqual(own.map((p) => p.name), []);
  });

  it('show the connection badge with shared/connection.js wherever they use the centrifuge client', () => {
    const clients = pages.filter((p) => /new Centrifuge\(/.test(p.text));
    assert.ok(clients.length >= 3, `pages with a client: ${clients.map((p) => p.name).join(', ')}`);
    for (const p of clients) assert.match(p.text, /import \{[^}]*\bshowConnection\b[^}]*\} from '\.\.\/shared\/connection\.js'/, p.name);
  });

  it('keep the game\'s drawing and input in their own modules', () => {
    const game = pages.find((p) => p.name === 'game/game.js');
    assert.ok(game);
    assert.match(game.text, /from '\.\/draw\.js'/);
    assert.match(game.text, /from '\.\/input\.js'/);
    assert.doesNotMatch(game.text, /getContext\(|addEventListener\('key/, 'game.js neither draws nor reads keys itself');
  });
});
