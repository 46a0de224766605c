#!/usr/bin/env node
/** The executable: runs main() with the real process, exits with its code. */
import { main } from './main.js';

const code = await main({
  argv: process.argv.slice(2),
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
