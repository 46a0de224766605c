// Copies what tsc does not emit into dist/: the Redis engine's Lua scripts (read at run time
// next to the compiled module). Part of `npm run build`.
import { cpSync } from 'node:fs';

cpSync('src/engine/redis/scripts', 'dist/engine/redis/scripts', { recursive: true });
