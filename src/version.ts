/** The package version, read from package.json (one folder up from both src/ and dist/). */
import { readFileSync } from 'node:fs';

/**
 * Inside the standalone executable (`npm run build:binary`) every module's URL is the binary's
 * root, where package.json is embedded (the rule of src/util/package-path.ts, which this floor
 * cannot import).
 */
const inBinary = import.meta.url.includes('/$bunfs/') || import.meta.url.includes('/~BUN/');
const packageJson = inBinary ? new URL('package.json', new URL('.', import.meta.url)) : new URL('../package.json', import.meta.url);

export const VERSION: string = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
