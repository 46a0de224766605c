/**
 * `canal connect URL`: an interactive WebSocket client, like wscat. Lines typed (or piped) are
 * sent; what arrives is printed. On the protocol endpoint it sends `connect` first, answers
 * server pings, and understands short commands (sub, pub, rpc...) besides raw JSON commands.
 */
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { duration } from '../config/values.js';
import { CloseCode } from '../protocol/codes.js';
import { plainToData } from '../session/plain-session.js';
import { parse } from './args.js';
import { ExitCode, UsageError, type CliIo } from './io.js';

export const CONNECT_HELP = [
  'Usage: canal connect URL [options]',
  '',
  'Opens a WebSocket to URL; each line you type is sent, each message received is',
  'printed as "< message". End input (Ctrl-D) to close. Works on every endpoint:',
  '  ws://127.0.0.1:8765/',
  '      echo: type hello, see < echo: hello',
  '  ws://127.0.0.1:8765/raw/chat:lobby',
  '      a plain channel: lines are published',
  '  ws://127.0.0.1:8765/connection/websocket',
  '      the protocol: connect is sent for you; then type sub CHANNEL,',
  '      unsub CHANNEL, pub CHANNEL DATA, rpc METHOD [DATA],',
  '      history CHANNEL [LIMIT], presence CHANNEL, ping, or a JSON command such as',
  '      {"publish":{"channel":"chat:a","data":1}} (commands without an "id" get',
  '      one). Server pings are answered for you.',
  '',
  'Options:',
  '  --token TOKEN    connection token sent with connect (protocol endpoint)',
  '  --wait DURATION  after input ends, close once nothing arrived for this long',
  '                   (default 500ms)',
  '  -h, --help       show this help',
  '',
  'Exit codes: 0 closed normally; 1 bad arguments, cannot connect, or closed by the',
  'server with an error code.',
].join('\n');

const waitParser = duration(0, 600_000);

/** Turns a typed line into a protocol command (without id), or undefined when it is not one. */
export function protocolCommand(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new UsageError(`not valid JSON: ${trimmed}`);
    }
  }
  const [verb = '', a, ...rest] = trimmed.split(/\s+/);
  const tail = rest.join(' ');
  switch (verb) {
    case 'sub': return a ? { subscribe: { channel: a } } : undefined;
    case 'unsub': return a ? { unsubscribe: { channel: a } } : undefined;
    case 'pub': return a && tail ? { publish: { channel: a, data: JSON.parse(plainToData(tail)) } } : undefined;
    case 'rpc': return a ? { rpc: { method: a, ...(tail ? { data: JSON.parse(plainToData(tail)) } : {}) } } : undefined;
    case 'history': return a ? { history: { channel: a, limit: rest[0] ? Number(rest[0]) : -1 } } : undefined;
    case 'presence': return a ? { presence: { channel: a } } : undefined;
    case 'ping': return { ping: {} };
    default: return undefined;
  }
}

export async function connect(io: CliIo, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    token: { type: 'string' }, wait: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  }, 'connect', true);
  if (values.help) {
    io.out(CONNECT_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError('connect takes one URL (see canal connect --help)');
  let url: URL;
  try {
    url = new URL(positionals[0]!.replace(/^http(s?):/, 'ws$1:'));
  } catch {
    throw new UsageError(`${JSON.stringify(positionals[0])} is not a URL (e.g. ws://127.0.0.1:8765/)`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new UsageError(`the URL must be ws:// or wss://, got ${url.protocol}`);
  let waitMs = 500;
  if (typeof values.wait === 'string') {
    try {
      waitMs = waitParser(values.wait);
    } catch {
      throw new UsageError(`--wait must be ${waitParser.allowed}`);
    }
  }
  const isProtocol = url.pathname === '/connection/websocket';
  const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
  let nextId = 1;
  let lastMessage = Date.now();

  const sendCommand = (command: Record<string, unknown>): void => {
    if (command.id === undefined && command.send === undefined) command.id = nextId++;
    ws.send(JSON.stringify(command));
  };

  const opened = new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('error', (err) => {
      io.err(`canal: cannot connect to ${url.href}: ${err.message}`);
      resolve(false);
    });
  });
  ws.on('message', (data, isBinary) => {
    lastMessage = Date.now();
    if (isBinary) {
      io.out(`< (binary, ${(data as Buffer).length} bytes)`);
      return;
    }
    for (const line of data.toString().split('\n')) {
      if (isProtocol && line.trim() === '{}') {
        ws.send('{}'); // answer the server's ping
        continue;
      }
      if (line !== '' || !isProtocol) io.out(`< ${line}`);
    }
  });
  let wasOpen = false;
  ws.once('open', () => (wasOpen = true));
  const closed = new Promise<number>((resolve) => {
    ws.once('close', (code, reason) => {
      const normal = code === CloseCode.Normal || code === CloseCode.NoStatus;
      if (wasOpen) io.err(`closed: ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`);
      resolve(normal ? ExitCode.Ok : ExitCode.Failure);
    });
  });
  if (!(await opened)) return ExitCode.Failure;
  if (isProtocol) sendCommand({ connect: typeof values.token === 'string' ? { token: values.token } : {} });

  const input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    if (line.trim() === '' || ws.readyState !== ws.OPEN) return;
    try {
      if (!isProtocol) {
        ws.send(line);
        return;
      }
      const command = protocolCommand(line);
      if (!command) io.err('canal: not a command; try sub CHANNEL, pub CHANNEL DATA, rpc METHOD DATA, or a JSON command');
      else sendCommand(command);
    } catch (err) {
      io.err(`canal: ${(err as Error).message}`);
    }
  });
  input.once('close', () => {
    const timer = setInterval(() => {
      if (ws.readyState !== ws.OPEN) return clearInterval(timer);
      if (Date.now() - lastMessage >= waitMs) {
        clearInterval(timer);
        ws.close(CloseCode.Normal);
      }
    }, Math.max(10, Math.min(100, waitMs)));
  });
  const code = await closed;
  input.close();
  return code;
}
