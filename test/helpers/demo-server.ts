/** A dev-mode canal with the demos' server side running, as `npm start` has it. */
import { after } from 'node:test';
import type { CanalOptions } from '../../src/canal.js';
import { createDemos, type DemosOptions } from '../../src/demos/index.js';
import { startServer, type TestServer } from './server.js';

export async function startDemoServer(options: CanalOptions = {}, demosOptions: DemosOptions = {}): Promise<TestServer> {
  const demos = createDemos(demosOptions);
  const server = await startServer({ ...options, ...demos.handlers });
  demos.start(server.canal);
  after(() => demos.stop());
  return server;
}
