#!/usr/bin/env node
/** The executable: runs main() with the real process, exits with its code. */
import { inBinary } from '../util/package-path.js';
import { main } from './main.js';

const argv = process.argv.slice(2);
// Inside the standalone executable, node:cluster starts a worker (serve --workers N) as
// `canal <the binary's entry> serve`: that entry path is not a command.
if (inBinary(import.meta.url) && argv[0] === process.argv[1]) argv.shift();

const code = await main({
  argv,
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).catch((err: unknown) => {
  process.stderr.write(`canal: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
  return 1;
});
// Exit explicitly: a closed server must not linger on a stray handle (issue: exit within 5 s).
process.exitCode = code;
process.stdout.write('', () => process.exit(code));
