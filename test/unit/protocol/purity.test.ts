/**
 * STYLE rule 1, enforced: the protocol core (src/protocol/) takes data in and gives values out.
 * It imports only its own files (and src/util/defined.ts), no Node module, no socket library,
 * and touches no clock, timer or process: time and I/O belong to the layers above.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveSpecifier, sourceFiles, specifiers, stripComments } from '../../helpers/source.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PROTOCOL = join(ROOT, 'src/protocol');
const ALLOWED_OUTSIDE = new Set([join(ROOT, 'src/util/defined.ts')]);
/**
 * Packages that only compute (bytes in, bytes out) and that the codecs need: protobufjs's Reader
 * and Writer for the Protobuf protocol, fossil-delta for publication deltas (issue 15).
 */
const PURE_PACKAGES = new Set(['protobufjs/minimal.js', 'fossil-delta']);

const FORBIDDEN_GLOBALS: Array<[RegExp, string]> = [
  [/\bDate\.now\b/, 'Date.now'],
  [/\bnew\s+Date\b/, 'new Date'],
  [/\bperformance\.now\b/, 'performance.now'],
  [/\bsetTimeout\b/, 'setTimeout'],
  [/\bsetInterval\b/, 'setInterval'],
  [/\bsetImmediate\b/, 'setImmediate'],
  [/\bqueueMicrotask\b/, 'queueMicrotask'],
  [/\bprocess\b/, 'process'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bfetch\s*\(/, 'fetch'],
];

describe('src/protocol purity (STYLE rule 1)', () => {
  const files = sourceFiles(PROTOCOL);

  it('has protocol files to check', () => {
    assert.ok(files.length >= 6, `found ${files.map((f) => relative(ROOT, f)).join(', ')}`);
  });

  for (const file of files) {
    const name = relative(ROOT, file);
    const code = stripComments(readFileSync(file, 'utf8'));

    it(`${name} imports only src/protocol/ files, src/util/defined.ts and pure packages`, () => {
      const outside: string[] = [];
      for (const spec of specifiers(code)) {
        if (PURE_PACKAGES.has(spec)) continue;
        if (!spec.startsWith('.')) {
          outside.push(`${spec} (not a relative import)`);
          continue;
        }
        const target = resolveSpecifier(file, spec);
        const inProtocol = !relative(PROTOCOL, target).startsWith('..');
        if (!inProtocol && !ALLOWED_OUTSIDE.has(target)) outside.push(`${spec} -> ${relative(ROOT, target)}`);
      }
      assert.deepEqual(outside, [], `${name} imports from outside the protocol core`);
    });

    it(`${name} imports no node: module and no socket library`, () => {
      const bad = specifiers(code).filter((s) => s.startsWith('node:') || s === 'ws' || s.startsWith('ws/') || /^(?:fs|net|http|https|tls|dgram|child_process|timers|worker_threads|crypto)$/.test(s));
      assert.deepEqual(bad, [], `${name} imports I/O modules`);
    });

    it(`${name} uses no clock, timer, randomness or process`, () => {
      const found = FORBIDDEN_GLOBALS.filter(([re]) => re.test(code)).map(([, what]) => what);
      assert.deepEqual(found, [], `${name} reaches outside the Sans-I/O core`);
    });
  }
});

describe('the purity checks themselves', () => {
  it('find static, type-only, re-exported, dynamic and required specifiers', () => {
    const code = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import * as ws from 'ws';",
      "import 'node:fs';",
      "export { c } from './c.js';",
      "const d = await import('node:net');",
      "const e = require('timers');",
    ].join('\n');
    assert.deepEqual(specifiers(code).sort(), ['../b.js', './a.js', './c.js', 'node:fs', 'node:net', 'timers', 'ws'].sort());
  });

  it('ignore words in comments but not in code', () => {
    const code = stripComments('/** Pure: no process, no Date.now. */\n// setTimeout here is prose\nconst t = Date.now();');
    assert.deepEqual(FORBIDDEN_GLOBALS.filter(([re]) => re.test(code)).map(([, w]) => w), ['Date.now']);
  });
});
