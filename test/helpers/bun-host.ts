/**
 * Runs on Bun, as a child of a test on Node (test/helpers/remote-canal.ts): one canal, built
 * from the options the test sent, listening on 127.0.0.1. The test's hooks (onRpc, ...) run in
 * the test's process: each call crosses to it and its answer (or its ReplyError or
 * DisconnectError) comes back. Log lines go to the test's logger. It ends when the test closes
 * it, or when the test's process goes away (the IPC channel closes).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Canal, type CanalOptions } from '../../src/canal.js';
import { decode, decodeError, encode, encodeError, type FromHost, type ToHost } from './bridge.js';

if (!('Bun' in globalThis) || !process.send) {
  process.stderr.write('bun-host: run on Bun, as a child with an IPC channel (test/helpers/remote-canal.ts starts it)\n');
  process.exit(2);
}

const send = (message: FromHost): void => void process.send!(message);
const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
let nextId = 0;
let canal: Canal | undefined;

/** Calls the test's hook `name` with `ctx`; resolves with its answer, rejects with its error. */
function callHook(name: string, ctx: unknown): Promise<unknown> {
  const id = ++nextId;
  send({ t: 'hook', id, name, ctx: encode(ctx) });
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

/** A pino logger at `level` whose lines go to the test. */
function forwardingLogger(level: string): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) send({ t: 'log', line });
      done();
    },
  });
  return pino({ level }, stream);
}

async function start(message: Extract<ToHost, { t: 'start' }>): Promise<void> {
  const options = decode(message.options) as Record<string, unknown>;
  for (const name of message.hooks) options[name] = (ctx: unknown) => callHook(name, ctx);
  if (message.logLevel !== undefined) options.logger = forwardingLogger(message.logLevel);
  try {
    canal = new Canal({ host: '127.0.0.1', port: 0, ...options } as CanalOptions);
    const { port } = await canal.listen();
    send({
      t: 'started', port, nodeId: canal.node.id, nodeName: canal.node.name,
      ...(canal.apiKey !== undefined ? { apiKey: canal.apiKey } : {}),
      ...(canal.tokenSecret !== undefined ? { tokenSecret: canal.tokenSecret } : {}),
    });
  } catch (err) {
    send({ t: 'startFailed', error: encodeError(err) });
  }
}

async function call(message: Extract<ToHost, { t: 'call' }>): Promise<unknown> {
  if (!canal) throw new Error('canal is not started');
  const args = decode(message.args) as unknown[];
  switch (message.method) {
    case 'publish': return canal.publish(args[0] as string, args[1], (args[2] ?? {}) as object);
    case 'metricsText': return canal.metrics.text();
    case 'close': return canal.close();
    // Nothing to do: the reply tells the test that every log line sent before it has arrived.
    case 'sync': return undefined;
  }
}

process.on('message', (raw) => {
  const message = raw as ToHost;
  if (message.t === 'start') void start(message);
  else if (message.t === 'call') {
    call(message).then(
      (value) => send({ t: 'reply', id: message.id, ok: true, value: encode(value) }),
      (err) => send({ t: 'reply', id: message.id, ok: false, value: encodeError(err) }),
    );
  } else {
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.ok) pending?.resolve(decode(message.value));
    else pending?.reject(decodeError(message.value));
  }
});
// The test's process went away: nothing is left to serve.
process.on('disconnect', () => process.exit(0));
