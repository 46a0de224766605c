// Empties dist/ before a build, so a source file that was renamed or removed leaves no stale
// module behind to be packed into the npm package. Part of `npm run build`.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
