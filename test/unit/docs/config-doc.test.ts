import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configDoc } from '../../../scripts/config-doc.js';
import { envName, flagName, OPTIONS, type OptionKey } from '../../../src/config/schema.js';

describe('docs/config.md', () => {
  const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');

  it('is what scripts/config-doc.ts writes from the option table (run it after changing an option)', () => {
    assert.equal(doc, configDoc());
  });

  it('names every option with its environment variable and flag', () => {
    for (const key of Object.keys(OPTIONS) as OptionKey[]) {
      assert.ok(doc.includes(`| \`${key}\` |`), `${key} missing`);
      const env = envName(key);
      const flag = flagName(key);
      if (env) assert.ok(doc.includes(`\`${env}\``), `${env} missing`);
      if (flag) assert.ok(doc.includes(`\`${flag}`), `${flag} missing`);
    }
  });
});
