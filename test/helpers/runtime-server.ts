/**
 * A canal in dev mode for tests that run on both runtimes: on Node in this process (as
 * startServer), on Bun as a `canal serve` child process (serveProcess). Both are reached the
 * same way: by URL, publications through `publish`, and the server API through `api`.
 */
import { serveProcess, type Runtime } from './cli.js';
import { startServer } from './server.js';

export interface RuntimeServer {
  readonly runtime: Runtime;
  readonly port: number;
  /** `ws://127.0.0.1:PORT` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
  /** Publishes `data` (a JSON value) to `channel` as the server; resolves once it is accepted. */
  publish(channel: string, data: unknown): Promise<void>;
  /** Calls server API `method`; resolves with its `result`, rejects on an HTTP or API error. */
  api(method: string, params: unknown): Promise<any>;
}

async function callApi(httpUrl: string, apiKey: string, method: string, params: unknown): Promise<any> {
  const res = await fetch(`${httpUrl}/api/${method}`, {
    method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify(params),
  });
  const body = await res.json() as { result?: unknown; error?: unknown };
  if (res.status !== 200 || body.error !== undefined) throw new Error(`${method}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.result;
}

/** Starts canal in dev mode on `runtime`; it is stopped after the current test file. */
export async function startServerOn(runtime: Runtime): Promise<RuntimeServer> {
  if (runtime === 'node') {
    const server = await startServer();
    return {
      runtime, port: server.port, wsUrl: server.wsUrl, httpUrl: server.httpUrl,
      publish: async (channel, data) => void await server.canal.publish(channel, data),
      api: (method, params) => callApi(server.httpUrl, server.canal.apiKey!, method, params),
    };
  }
  const served = await serveProcess([], { runtime });
  const api = (method: string, params: unknown): Promise<any> => callApi(served.httpUrl, served.apiKey, method, params);
  return {
    runtime, port: served.port, wsUrl: served.wsUrl, httpUrl: served.httpUrl, api,
    publish: async (channel, data) => void await api('publish', { channel, data }),
  };
}
