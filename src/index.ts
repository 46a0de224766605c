/**
 * canal's public API. Everything else under src/ is internal and may change without notice.
 */
export { Canal, ListenError, type CanalOptions, type ConfigInput, type ListenAddress, type PublishOptions } from './canal.js';
export { ConfigError, type ConfigProblem } from './config/resolve.js';
export type { Config } from './config/schema.js';
export type { NamespaceOptions } from './config/namespaces.js';
export type {
  ConnectingContext, ConnectingResult, DisconnectContext, Handlers, MessageContext, PublishContext, PublishHandlerResult,
  RpcContext, SubscribeContext, SubscribeHandlerResult,
} from './handlers.js';
export { DisconnectCode, ErrorCode, UnsubscribeCode } from './protocol/codes.js';
export { DisconnectError, ReplyError } from './protocol/errors.js';
export type { ClientInfo, Publication, StreamPosition } from './protocol/types.js';
export { createMemoryEngine, type MemoryEngineOptions } from './engine/memory/memory-engine.js';
export { createRedisEngine, type RedisAddress, type RedisEngineOptions, type RedisTopology } from './engine/redis/redis-engine.js';
export { EngineUnavailableError, UnrecoverablePositionError } from './engine/types.js';
export type {
  Broker, BrokerEventHandler, ControlMessage, Engine, NodeRegistry, NodeSummary, HistoryOptions, HistoryPage, HistoryQuery, PresenceManager, PresenceStats,
  PublicationInput,
} from './engine/types.js';
