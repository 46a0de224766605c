/** The package version, read from package.json (one folder up from both src/ and dist/; embedded in the binary). */
import { readFileSync } from 'node:fs';
import { packagePath } from './util/package-path.js';

export const VERSION: string = (JSON.parse(readFileSync(packagePath(import.meta.url, '../package.json', 'package.json'), 'utf8')) as { version: string }).version;
