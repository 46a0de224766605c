/**
 * Where a file that ships with canal is at run time. From a checkout or an npm install it is
 * beside the module that reads it (src/ and dist/ have the same shape); inside the standalone
 * executable `npm run build:binary` makes, every module reports the binary's one virtual root
 * (Bun's `/$bunfs/root/`), and scripts/build-binary.ts embedded the file there (web/, package.json,
 * redis-scripts/, centrifuge/).
 */
import { fileURLToPath } from 'node:url';

/** Whether `moduleUrl` (an import.meta.url) is inside a `bun build --compile` executable. */
export function inBinary(moduleUrl: string): boolean {
  return moduleUrl.includes('/$bunfs/') || moduleUrl.includes('/~BUN/');
}

/**
 * The path of a shipped file: `relative` to `moduleUrl` (the reading module's import.meta.url),
 * or, inside the executable, `embedded` from the binary's root.
 * A trailing slash on either is kept.
 */
export function packagePath(moduleUrl: string, relative: string, embedded: string): string {
  if (inBinary(moduleUrl)) return fileURLToPath(new URL(embedded, new URL('.', moduleUrl)));
  return fileURLToPath(new URL(relative, moduleUrl));
}
