/**
 * What a test learns about a started canal (test/helpers/server.ts) from outside, so that it
 * holds on both runtimes: the server API with the server's own key, and GET /stats. A test of a
 * file marked `@runtimes node bun` asks these instead of reading `server.canal.node`.
 */
import type { Stats } from '../../src/metrics.js';
import { apiCall } from './nodes.js';
import type { TestServer } from './server.js';

/** POST /api/<method> on `server` with its key; the result, or a throw naming the answer. */
export async function apiResult<T = unknown>(server: TestServer, method: string, params: unknown): Promise<T> {
  const key = server.canal.apiKey;
  if (key === undefined) throw new Error('the server has no API key: start it in dev mode on loopback or give api_key');
  const r = await apiCall<T>(server.httpUrl, method, params, 5000, key);
  if (r.status !== 200 || r.result === undefined) throw new Error(`POST /api/${method} ${JSON.stringify(params)} failed: HTTP ${r.status} ${r.text}`);
  return r.result;
}

/** The connections `server` holds now (this node's entry of /api/info, which is always fresh). */
export async function numClients(server: TestServer): Promise<number> {
  const { nodes } = await apiResult<{ nodes: Array<{ uid: string; num_clients: number }> }>(server, 'info', {});
  const own = nodes.find((n) => n.uid === server.canal.node.id);
  if (!own) throw new Error(`/api/info does not list this node (${server.canal.node.id}): ${JSON.stringify(nodes)}`);
  return own.num_clients;
}

/** How many connections are subscribed to `channel` (a name with no glob characters), over every node. */
export async function channelClients(server: TestServer, channel: string): Promise<number> {
  const { channels } = await apiResult<{ channels: Record<string, { num_clients: number }> }>(server, 'channels', { pattern: channel });
  return channels[channel]?.num_clients ?? 0;
}

/** The client ids present in `channel` (a namespace with presence on), over every node. */
export async function presentClients(server: TestServer, channel: string): Promise<string[]> {
  const { presence } = await apiResult<{ presence: Record<string, unknown> }>(server, 'presence', { channel });
  return Object.keys(presence);
}

/** Disconnects client `client` of `user` ('' for an anonymous one) with `code` and `reason`. */
export async function disconnectClient(server: TestServer, user: string, client: string, code: number, reason: string): Promise<void> {
  await apiResult(server, 'disconnect', { user, client, disconnect: { code, reason } });
}

/** GET /stats: the server's figures (messages in and out, clients...). */
export async function serverStats(server: TestServer): Promise<Stats> {
  const res = await fetch(`${server.httpUrl}/stats`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /stats answered HTTP ${res.status}: ${await res.text()}`);
  return await res.json() as Stats;
}
