// Does for dist/ what tsc does not: copies the Redis engine's Lua scripts (read at run time next
// to the compiled module), and makes the CLI entry executable (tsc writes it 0644; `npx canal` in
// the clone runs it through a link npm does not always refresh after a rebuild). Part of
// `npm run build`.
import { chmodSync, cpSync } from 'node:fs';

cpSync('src/engine/redis/scripts', 'dist/engine/redis/scripts', { recursive: true });
chmodSync('dist/cli/bin.js', 0o755);
