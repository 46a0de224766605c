/**
 * Starts a real canal on an ephemeral port for a test, and stops it afterwards: in this process,
 * or on Bun when the test file runs in `npm test`'s Bun pass (TEST_SERVER_RUNTIME=bun; files
 * marked `@runtimes node bun` run in both passes), through test/helpers/remote-canal.ts.
 */
import { after } from 'node:test';
import { Canal, type CanalOptions } from '../../src/canal.js';
import type { Runtime } from './cli.js';
import { startOnBun } from './remote-canal.js';

export interface TestServer {
  readonly canal: Canal;
  readonly port: number;
  /** `ws://127.0.0.1:PORT` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
}

/** The runtime this test process starts canal on: Node unless `npm test`'s Bun pass set TEST_SERVER_RUNTIME=bun. */
export function serverRuntime(): Runtime {
  const runtime = process.env.TEST_SERVER_RUNTIME ?? 'node';
  if (runtime !== 'node' && runtime !== 'bun') throw new Error(`TEST_SERVER_RUNTIME must be node or bun, not ${runtime}`);
  return runtime;
}

/** Starts canal on 127.0.0.1:0 with `options`; it is closed after the current test file. */
export async function startServer(options: CanalOptions = {}): Promise<TestServer> {
  if (serverRuntime() === 'bun') {
    const { canal, port } = await startOnBun(options);
    after(() => canal.close());
    return { canal, port, wsUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` };
  }
  const canal = new Canal({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await canal.listen();
  after(() => canal.close());
  return { canal, port, wsUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` };
}
