/**
 * The layers of src/ (docs/architecture.md, "The layers"), enforced: every import goes down the
 * house or stays on its own floor, never up. A lower layer that needs something from a higher
 * one gets it as an interface it declares itself (the hub's ProtocolSubscriber, the engine's
 * BrokerEventHandler), so the arrow keeps pointing down.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveSpecifier, sourceFiles, specifiers, stripComments } from '../helpers/source.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * Each layer (a folder, or a file at the top of src/) and its floor: imports may only go to a
 * lower floor or the same layer. The node is node.ts and what it is made of (PART_OF).
 */
const FLOORS: ReadonlyArray<readonly [layer: string, floor: number]> = [
  ['cli/', 9],
  ['demos/', 8],
  ['index.ts', 7],
  ['canal.ts', 6],
  ['transport/', 5],
  ['http/', 5],
  ['session/', 4],
  ['node.ts', 3],
  ['handlers.ts', 3],
  ['hub/', 2],
  ['engine/', 2],
  ['auth/', 2],
  ['proxy/', 2],
  ['config/', 1],
  ['protocol/', 1],
  ['util/', 0],
  ['log.ts', 0],
  ['metrics.ts', 0],
  ['version.ts', 0],
];

/** Files at the top of src/ that belong to another file's layer. */
const PART_OF: Readonly<Record<string, string>> = { 'stream-tracker.ts': 'node.ts' };

function layerOf(file: string): readonly [string, number] {
  const top = relative(SRC, file).split('\\').join('/');
  const rel = PART_OF[top] ?? top;
  const found = FLOORS.find(([layer]) => (layer.endsWith('/') ? rel.startsWith(layer) : rel === layer));
  assert.ok(found, `src/${rel} is in no layer: add it to FLOORS (and to docs/architecture.md)`);
  return found;
}

/** The files of src/ that `file` imports (static, type-only and dynamic imports alike). */
function importsOf(file: string): string[] {
  return specifiers(stripComments(readFileSync(file, 'utf8'))).filter((s) => s.startsWith('.')).map((s) => resolveSpecifier(file, s));
}

describe('the layers of src/', () => {
  const files = sourceFiles(SRC);

  it('puts every source file in a layer', () => {
    for (const file of files) layerOf(file);
  });

  it('has no import from a lower layer up to a higher one, nor sideways between layers of one floor', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const [from, floor] = layerOf(file);
      for (const target of importsOf(file)) {
        const [to, targetFloor] = layerOf(target);
        if (to === from) continue;
        if (targetFloor >= floor) wrong.push(`src/${relative(SRC, file)} (${from}, floor ${floor}) imports src/${relative(SRC, target)} (${to}, floor ${targetFloor})`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
