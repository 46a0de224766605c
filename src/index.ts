/**
 * canal's public API. Everything else under src/ is internal and may change without notice.
 */
export { Canal, ListenError, type CanalOptions, type ListenAddress } from './canal.js';
export { ConfigError, type ConfigProblem } from './config/resolve.js';
export type { Config } from './config/schema.js';
