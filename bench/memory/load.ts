/**
 * The memory benchmark's connection holder for one target, run as its own process (pinned to
 * the load CPU): opens idle connections when told to, keeps them alive (answering canal's pings)
 * and sends nothing else.
 *   node --import tsx bench/lib/memory-load.ts '<MemoryLoadConfig as JSON>'
 * Commands on stdin, one JSON line each: `{"cmd":"open","total":M}` opens connections until M
 * are open, answered by `{"type":"opened","total":M,"seconds":S}`; `{"cmd":"done"}` closes them
 * and exits 0. Exits 1 with the reason on stderr when a connection fails or is closed by the
 * server, 2 past its deadline, 0 when stdin closes.
 */
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { FanoutSubscriber } from './fanout-connection.js';
import { FanoutTally } from './fanout-tally.js';
import type { MemoryLoadCommand, MemoryLoadConfig, OpenedLine } from './memory-load-types.js';

/** Connections opened at once: well inside the default accept backlog (511). */
const OPEN_CONCURRENCY = 100;

function fail(message: string, code = 1): never {
  process.stderr.write(`memory-load: ${message}\n`);
  process.exit(code);
}

async function run(config: MemoryLoadConfig): Promise<void> {
  const open: FanoutSubscriber[] = [];
  // Nothing is published: the tally only exists because subscribers report deliveries to one.
  const tally = new FanoutTally(1);
  const onError = (err: Error): void => fail(`${config.name}: ${err.message}`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as MemoryLoadCommand;
    if (cmd.cmd === 'done') {
      for (const c of open) c.close();
      return;
    }
    const started = performance.now();
    while (open.length < cmd.total) {
      const batch = Array.from({ length: Math.min(OPEN_CONCURRENCY, cmd.total - open.length) }, (_, i) => {
        const index = open.length + i;
        const channel = config.ownChannels ? `${config.channel}-${index}` : config.channel;
        return FanoutSubscriber.open(config.kind, config.port, channel, index, 1, tally, onError);
      });
      open.push(...(await Promise.all(batch)));
    }
    const reply: OpenedLine = { type: 'opened', total: open.length, seconds: (performance.now() - started) / 1000 };
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
}

const arg = process.argv[2];
if (!arg) fail('usage: memory-load.ts <MemoryLoadConfig JSON>');
const config = JSON.parse(arg) as MemoryLoadConfig;
// Every loop here is bounded in count (the total asked for) and, by this deadline, in time.
setTimeout(() => fail(`deadline of ${config.deadlineMs} ms passed`, 2), config.deadlineMs).unref();
run(config).then(
  () => process.stdout.write('', () => process.exit(0)),
  (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
);
