/**
 * One fan-out load generator as the benchmark drives it: a child process on the load CPU that
 * holds one target's subscribers and publishers, sent one command at a time and answering each
 * with one line (fanout-load-types.ts).
 */
import { CommandChild } from './command-child.js';
import { FANOUT_LOAD_ENTRY, type FanoutCommand, type FanoutLine, type FanoutLoadConfig } from './fanout-load-types.js';
import type { Pinning } from './pinning.js';

export type FanoutGenerator = CommandChild<FanoutCommand, FanoutLine>;

/** Starts the generator for `config`; resolves once it has opened every connection (rejects after `timeoutMs`). */
export async function startFanoutGenerator(config: FanoutLoadConfig, pinning: Pinning, timeoutMs: number): Promise<{ generator: FanoutGenerator; connectSeconds: number }> {
  const generator = CommandChild.start<FanoutCommand, FanoutLine>(`load generator for ${config.target.name}`, FANOUT_LOAD_ENTRY, config, pinning);
  try {
    const ready = await generator.next(timeoutMs, 'open its connections');
    if (ready.type !== 'ready') throw generator.child.failure(`answered ${ready.type} before it was ready`);
    return { generator, connectSeconds: ready.connectSeconds };
  } catch (err) {
    await generator.stop();
    throw err;
  }
}
