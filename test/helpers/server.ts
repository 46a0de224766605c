/** Starts a real canal on an ephemeral port for a test, and stops it afterwards. */
import { after } from 'node:test';
import { Canal, type CanalOptions } from '../../src/canal.js';

export interface TestServer {
  readonly canal: Canal;
  readonly port: number;
  /** `ws://127.0.0.1:PORT` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
}

/** Starts canal on 127.0.0.1:0 with `options`; it is closed after the current test file. */
export async function startServer(options: CanalOptions = {}): Promise<TestServer> {
  const canal = new Canal({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await canal.listen();
  after(() => canal.close());
  return { canal, port, wsUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}` };
}
