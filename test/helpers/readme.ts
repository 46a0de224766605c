/**
 * Code taken from README.md as a reader copies it, so the tests run what the README shows and
 * the README cannot drift from what works.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where README.md and package.json are). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The first code block fenced as `lang` in the README section under the heading `## title`
 * (the section ends at the next `## ` heading). Throws when there is none.
 */
export function readmeBlock(title: string, lang: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start !== -1, `README.md has a "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const m = new RegExp(`\\n\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(section);
  assert.ok(m, `README.md's "## ${title}" section has a \`\`\`${lang} code block`);
  return `${m[1]!}\n`;
}

/** The README's embedding example (TypeScript), as written. */
export function embeddingExample(): string {
  return readmeBlock('Embedding', 'ts');
}
