/**
 * The memory benchmark's connection holder for one target, in a load process
 * (bench/lib/load-process.ts): opens idle connections when told to (protocol ones connected and
 * subscribed), keeps them alive (answering canal's pings) and sends nothing else. Fails the run
 * when a connection fails or is closed by the server.
 */
import { performance } from 'node:perf_hooks';
import { FanoutSubscriber } from '../fanout/connection.js';
import { Publications } from '../fanout/publications.js';
import type { LoadSession } from '../lib/load-child.js';
import type { MemoryCommand, MemoryLoadConfig, OpenedLine } from './types.js';

/** Connections opened at once: well inside the default accept backlog (511). */
const OPEN_CONCURRENCY = 100;

/** See bench/lib/load-child.ts, LoadModule. */
export function startLoad(config: MemoryLoadConfig, fail: (message: string) => never): Promise<LoadSession> {
  const open: FanoutSubscriber[] = [];
  // Nothing is published: the book only exists because subscribers report deliveries to one.
  const publications = new Publications(1);
  const onError = (err: Error): void => fail(err.message);
  const ready: OpenedLine = { type: 'opened', total: 0, seconds: 0 };
  return Promise.resolve({
    ready,
    handle: async (command) => {
      const cmd = command as MemoryCommand;
      if (cmd.cmd === 'done') {
        for (const c of open) c.close();
        return { line: { type: 'opened', total: 0, seconds: 0 } satisfies OpenedLine, last: true };
      }
      const started = performance.now();
      // Bounded by the total asked for; each batch waits for its connections.
      while (open.length < cmd.total) {
        const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, cmd.total - open.length) }, (_, i) => {
          const index = open.length + i;
          const channel = config.ownChannels ? `${config.channel}-${index}` : config.channel;
          return FanoutSubscriber.open(config.kind, config.port, channel, index, 1, publications, onError);
        });
        open.push(...(await Promise.all(batch)));
      }
      return { line: { type: 'opened', total: open.length, seconds: (performance.now() - started) / 1000 } satisfies OpenedLine };
    },
  });
}
