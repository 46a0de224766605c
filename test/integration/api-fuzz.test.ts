/**
 * A bounded, seeded fuzz of the two doors bad input comes through: the server API (10,000
 * random or mutated bodies POSTed to random /api/<method> paths) and the protocol endpoint
 * (connect, then mutated command frames). Whatever arrives, the server answers with a
 * documented status and a JSON body, closes connections only with documented codes, answers
 * or closes on every frame, and still serves afterwards.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { connectedClient, openProtocolClient, type ProtocolClient } from '../helpers/protocol-client.js';
import { serveProcess, type ServedProcess } from '../helpers/cli.js';
import { connectClient } from '../helpers/ws-client.js';
import { seededRandom } from '../helpers/random.js';

const SEED = Number(process.env.CANAL_FUZZ_SEED ?? 20240611);
const API_BODIES = 10_000;
const PROTOCOL_FRAMES = 2_000;
/** The API's body limit (max_message_bytes) in the fuzzed process. */
const LIMIT_BYTES = 64 * 1024;
/** The protocol's frame limit: the default, so a 100,000-deep value fits in a frame. */
const PROTOCOL_LIMIT_BYTES = 256 * 1024;


class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const STRINGS = [
  '', ' ', 'chat:fuzz', 'chat:*', 'nowhere:x', 'scores:1', 'game:g', 'chat:a b', 'chat:' + 'x'.repeat(300),
  'ana', '__proto__', 'constructor', 'toString', 'chat:é', '💥', '\u0000', '\ud800', '\u202e', 'null', '{}', '[]',
  'chat:\n', 'a'.repeat(40), '%00', '../../etc', 'chat:üñíçødé',
];
const NUMBERS = [0, -0, 1, -1, 2.5, 3000, 3503, 4999, 5000, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE];

function randomValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 3 ? 4 : 7)) {
    case 0: return r.pick(STRINGS);
    case 1: return r.pick(NUMBERS);
    case 2: return r.pick([true, false, null]);
    case 3: return r.int(1000);
    case 4: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    case 5: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--) o[r.pick(['channel', 'data', 'user', 'x', 'offset', 'epoch', 'code', 'method', 'params'])] = randomValue(r, depth + 1);
      return o;
    }
    default: return r.pick(STRINGS) + r.pick(STRINGS);
  }
}

/** `value` wrapped `depth` times in arrays or objects. */
function nested(depth: number, r: Random): unknown {
  let v: unknown = r.pick([1, 'x', null]);
  for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { a: v };
  return v;
}

/**
 * A string standing for an array nested N deep, expanded in the serialised text by {@link
 * serialise} (JSON.stringify itself cannot write values that deep).
 */
const DEEP = '\u0001deep:';

/** JSON.stringify, with every DEEP marker replaced by arrays nested that deep. */
function serialise(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/"\\u0001deep:(\d+)"/g, (_, n: string) => `${'['.repeat(Number(n))}${']'.repeat(Number(n))}`);
}

/** Valid parameters for every API method (mutations start from these). */
function validApiBody(method: string, r: Random): Record<string, unknown> {
  const channel = r.pick(['chat:fz1', 'chat:fz2', 'scores:fz', 'game:fz', 'fz']);
  switch (method) {
    case 'publish': return { channel, data: randomValue(r), ...(r.chance(0.3) ? { idempotency_key: `k${r.int(50)}` } : {}), ...(r.chance(0.2) ? { skip_history: true } : {}), ...(r.chance(0.2) ? { tags: { a: 'b' } } : {}) };
    case 'broadcast': return { channels: [channel, 'chat:fz3'], data: randomValue(r) };
    case 'subscribe':
    case 'unsubscribe': return { user: `fuzz-user-${r.int(5)}`, channel, ...(r.chance(0.3) ? { client: 'c' } : {}) };
    case 'disconnect': return { user: `fuzz-user-${r.int(5)}`, ...(r.chance(0.5) ? { disconnect: { code: 4000 + r.int(999), reason: 'fuzz' } } : {}) };
    case 'refresh': return { user: `fuzz-user-${r.int(5)}`, ...(r.chance(0.5) ? { expired: r.chance(0.5) } : { expire_at: Math.floor(Date.now() / 1000) + 60 }) };
    case 'presence':
    case 'presence_stats':
    case 'history_remove': return { channel };
    case 'history': return { channel, limit: r.pick([-1, 0, 1, 10]), ...(r.chance(0.3) ? { reverse: true } : {}), ...(r.chance(0.3) ? { since: { offset: r.int(5), epoch: r.pick(['', 'abc']) } } : {}) };
    case 'channels': return r.chance(0.5) ? { pattern: r.pick(['chat:*', '*', '?', '[', '(', '\\', 'a**b']) } : {};
    case 'info': return {};
    case 'batch': return {
      parallel: r.chance(0.5),
      commands: Array.from({ length: 1 + r.int(4) }, () => {
        const m = r.pick(API_METHODS.filter((x) => x !== 'batch'));
        return { method: m, params: validApiBody(m, r) };
      }),
    };
    default: return {};
  }
}

const API_METHODS = ['publish', 'broadcast', 'subscribe', 'unsubscribe', 'disconnect', 'refresh', 'presence', 'presence_stats', 'history', 'history_remove', 'channels', 'info', 'batch'];

/** Mutates a JSON object structurally: drop, retype, add, nest, replace. */
function mutateValue(value: unknown, r: Random): unknown {
  if (value === null || typeof value !== 'object') {
    return r.pick([
      () => randomValue(r),
      () => r.pick(NUMBERS),
      () => r.pick(STRINGS),
      () => nested(1 + r.int(50), r),
      () => `${DEEP}${1 + r.int(20_000)}`,
      () => [value],
      () => ({ value }),
      () => null,
    ])();
  }
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length > 0 && r.chance(0.5)) {
      const i = r.int(copy.length);
      copy[i] = mutateValue(copy[i], r);
    } else if (r.chance(0.5)) copy.push(randomValue(r));
    else copy.splice(r.int(copy.length + 1), 1);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  switch (r.int(5)) {
    case 0: if (keys.length > 0) delete copy[r.pick(keys)]; break;
    case 1: if (keys.length > 0) { const k = r.pick(keys); copy[k] = mutateValue(copy[k], r); } break;
    case 2: copy[r.pick(['chanel', 'extra', '', 'data', 'id', 'method', 'params', 'since', 'commands'])] = randomValue(r); break;
    case 3: if (keys.length > 0) { const k = r.pick(keys); copy[k] = nested(1 + r.int(100), r); } break;
    default: return r.pick([randomValue(r), [], 'text', 0, null]);
  }
  return copy;
}

/** Mutates serialised text: truncate, insert invalid UTF-8, replace a character, duplicate, pad. */
function mutateText(text: string, r: Random, limit: number): string | Buffer {
  switch (r.int(8)) {
    case 0: return text.slice(0, r.int(text.length + 1));
    case 1: {
      const bytes = Buffer.from(text);
      const at = r.int(bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(r.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]])), bytes.subarray(at)]);
    }
    case 2: {
      const at = r.int(text.length + 1);
      return text.slice(0, at) + r.pick(['"', '{', '}', ',', ':', '\\', '\n', '\u0000', 'é', '\ud83d']) + text.slice(at + 1);
    }
    case 3: return text + text;
    case 4: return text + ' '.repeat(limit);
    case 5: return r.pick(['', ' ', 'null', '{', '}', '[]', '1e999', '"\\ud800"', '{"a":1,"a":2}', '\ufeff{}']);
    case 6: return text.replace(/\d+/, String(r.pick(['1e999', '-1', '99999999999999999999', '0.5', 'NaN'])));
    default: return text.replace(/"[^"]*"/, `"${'💥'.repeat(r.int(50))}"`);
  }
}

/** Close codes documented in docs/errors.md (the tables' first column). */
function documentedCloseCodes(): Set<number> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const codes = new Set<number>();
  for (const m of doc.matchAll(/^\| (\d{4}) \|/gm)) codes.add(Number(m[1]));
  return codes;
}

const REPLY_ERROR_CODES = new Set([100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112]);

/** Problems found, by kind, with the first example of each (so one report names every kind). */
class Findings {
  readonly #kinds = new Map<string, { count: number; example: string }>();

  /** Counts one problem of `kind`; `example` is only built for the first of its kind. */
  add(kind: string, example: string | (() => string)): void {
    const k = this.#kinds.get(kind);
    if (k) k.count++;
    else this.#kinds.set(kind, { count: 1, example: (typeof example === 'string' ? example : example()).slice(0, 400) });
  }

  assertNone(what: string): void {
    const lines = [...this.#kinds].map(([kind, { count, example }]) => `  ${kind} (${count}x), e.g. ${example}`);
    assert.equal(lines.length, 0, `${what} (seed ${SEED}):\n${lines.join('\n')}`);
  }
}

/** Keep-alive connections for the API fuzz: fetch costs twice as much per request, and 10,000 must fit in seconds. */
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
after(() => agent.destroy());

interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/** Sends one request with `body` exactly as given; resolves with the status and the body text. */
function send(port: number, method: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    // An explicit length: node:http sends a DELETE's body without one, which desynchronises the connection.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...length }, agent, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Whether `path` is valid percent-encoding. */
function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

/** A canal server running as its own process (a crash is an exit, and it gets its own CPU). */
interface CanalProcess extends ServedProcess {
  /** Log lines at level error or fatal (pino levels 50, 60). */
  readonly errorLogs: string[];
}

/** Spawns `canal serve --port 0 ARGS`, keeping its error-level log lines. */
async function startCanalProcess(args: readonly string[]): Promise<CanalProcess> {
  const errorLogs: string[] = [];
  const served = await serveProcess(args, { onStderrLine: (line) => { if (/"level":(50|60)\b/.test(line)) errorLogs.push(line); } });
  return { ...served, errorLogs };
}

/** After the fuzz: the echo endpoint answers, and a publish through the API reaches a subscriber. */
async function assertStillServes(server: CanalProcess): Promise<void> {
  assert.equal(server.child.exitCode, null, 'the canal process exited');
  const echo = await connectClient(`${server.wsUrl}/`);
  echo.send('still there?');
  assert.equal(await echo.nextText(), 'echo: still there?');
  echo.close();
  const sub = await connectedClient(server.wsUrl);
  await sub.subscribe('chat:after-fuzz');
  const res = await fetch(`${server.httpUrl}/api/publish`, {
    method: 'POST',
    headers: { 'x-api-key': server.apiKey },
    body: JSON.stringify({ channel: 'chat:after-fuzz', data: { ok: true } }),
  });
  assert.equal(res.status, 200);
  const push = await sub.nextPush({ kind: 'pub', channel: 'chat:after-fuzz' });
  assert.deepEqual(push.push.pub.data, { ok: true });
  sub.close();
}

/** Valid protocol commands (without id) to mutate. */
function validCommand(r: Random): Record<string, unknown> {
  const channel = r.pick(['chat:pf1', 'chat:pf2', 'scores:pf', 'game:pf', 'pf', 'nowhere:pf']);
  switch (r.int(11)) {
    case 0: return { subscribe: { channel, ...(r.chance(0.3) ? { recover: true, offset: r.int(5), epoch: 'x' } : {}), ...(r.chance(0.3) ? { join_leave: true, positioned: true, recoverable: true } : {}) } };
    case 1: return { unsubscribe: { channel } };
    case 2: return { publish: { channel, data: randomValue(r) } };
    case 3: return { presence: { channel } };
    case 4: return { presence_stats: { channel } };
    case 5: return { history: { channel, limit: r.pick([-1, 0, 5]), ...(r.chance(0.3) ? { since: { offset: 1, epoch: 'e' }, reverse: true } : {}) } };
    case 6: return { ping: {} };
    case 7: return { send: { data: randomValue(r) } };
    case 8: return { rpc: { method: 'm', data: randomValue(r) } };
    case 9: return { refresh: { token: 'not.a.jwt' } };
    default: return { sub_refresh: { channel, token: 'x' } };
  }
}

describe('fuzz: one canal process, the server API then the protocol endpoint', async () => {
  const server = await startCanalProcess(['--max-message-bytes', String(LIMIT_BYTES), '--protocol-max-message-bytes', String(PROTOCOL_LIMIT_BYTES)]);
  const documented = documentedCloseCodes();

  it(`answers ${API_BODIES} random and mutated requests with a documented status and a JSON result or error, then still serves`, async () => {
    const r = new Random(SEED);
    const findings = new Findings();
    const requests = Array.from({ length: API_BODIES }, (_, i) => {
      const method = r.pick(API_METHODS);
      let path = method;
      if (r.chance(0.05)) path = r.pick([method.toUpperCase(), `${method}x`, method.slice(1), '', `${method}/x`, encodeURIComponent(method), `%${r.int(256).toString(16)}`, '%E0%A4%A', 'toString', '__proto__']);
      let body: string | Buffer = JSON.stringify(r.chance(0.1) ? randomValue(r) : validApiBody(method, r));
      const mutations = r.chance(0.15) ? 0 : 1 + r.int(3);
      for (let m = 0; m < mutations; m++) {
        if (typeof body !== 'string') break;
        if (r.chance(0.6)) {
          try {
            body = serialise(mutateValue(JSON.parse(body), r));
          } catch {
            body = mutateText(body, r, LIMIT_BYTES);
          }
        } else body = mutateText(body, r, LIMIT_BYTES);
      }
      const key = r.chance(0.03) ? r.pick([undefined, 'wrong-key-xyz']) : '(right)';
      const httpMethod = r.chance(0.02) ? r.pick(['GET', 'PUT', 'DELETE']) : 'POST';
      return { i, path, body, key, httpMethod };
    });
    const statuses = new Map<number, number>();
    const started = Date.now();
    // A bound against a hang, not a budget: on an idle machine this takes a few seconds.
    const deadline = started + 60_000;
    await pool(requests.length, 16, async (i) => {
      if (Date.now() > deadline) return;
      const q = requests[i]!;
      const headers: Record<string, string> = {};
      if (q.key === '(right)') headers['x-api-key'] = server.apiKey;
      else if (q.key !== undefined) headers['x-api-key'] = q.key;
      const what = (): string => `#${q.i} ${q.httpMethod} /api/${q.path} ${JSON.stringify(typeof q.body === 'string' ? q.body.slice(0, 300) : q.body.subarray(0, 300).toString())}`;
      let res: HttpAnswer;
      try {
        res = await send(server.port, q.httpMethod, `/api/${q.path}`, headers, q.httpMethod === 'GET' ? undefined : q.body);
      } catch (err) {
        findings.add('request failed (connection reset or timeout)', () => `${what()}: ${(err as Error).message}`);
        return;
      }
      const { text } = res;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = API_METHODS.includes(q.path) ? `/api/${q.path}`
        : !decodable(q.path) ? 'a method path that is not valid percent-encoding'
          : q.path in Object.prototype ? 'a method named like an Object.prototype property' : 'an unknown method';
      if (![200, 400, 401, 404, 405, 413].includes(res.status)) findings.add(`HTTP ${res.status} on ${where}`, () => `${what()} -> ${text}`);
      let json: { result?: unknown; error?: { code?: unknown; message?: unknown } };
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        findings.add('a body that is not JSON', () => `${what()} -> HTTP ${res.status} ${JSON.stringify(text)}`);
        return;
      }
      if ((json.result === undefined) === (json.error === undefined)) {
        findings.add('neither exactly one of result and error', () => `${what()} -> ${text}`);
        return;
      }
      if (json.error) {
        const { code, message } = json.error;
        if (typeof code !== 'number' || typeof message !== 'string' || message === '') findings.add('an error without code and message', () => `${what()} -> ${text}`);
        else if (!REPLY_ERROR_CODES.has(code)) findings.add(`undocumented error code ${code}`, () => `${what()} -> ${text}`);
        else if (code === 100 && res.status !== 500) findings.add(`internal error 100 on ${where} (the memory engine never fails)`, () => `${what()} -> ${text}`);
        else if (res.status === 200 && json.error && [101, 104, 106].includes(code)) findings.add(`HTTP 200 with code ${code}`, () => `${what()} -> ${text}`);
      } else if (res.status !== 200) findings.add(`HTTP ${res.status} with a result`, () => `${what()} -> ${text}`);
    });
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    process.stderr.write(`api fuzz: ${answered} answers in ${Date.now() - started} ms: ${JSON.stringify([...statuses])}\n`);
    assert.ok(answered >= API_BODIES * 0.99, `only ${answered} of ${API_BODIES} requests answered before the deadline`);
    findings.assertNone('the API answered outside its contract');
    // The mix must reach every kind of answer, or the fuzz is not exercising the refusals.
    for (const status of [200, 400, 401, 404, 405, 413]) assert.ok((statuses.get(status) ?? 0) > 0, `no HTTP ${status} among ${JSON.stringify([...statuses])}`);
    await assertStillServes(server);
  });

  it('closes with documented codes only, and answers or closes after every mutated frame', async () => {
    assert.ok(documented.has(3501) && documented.has(1009), `docs/errors.md lists ${[...documented].join(', ')}`);
    const r = new Random(SEED + 1);
    const findings = new Findings();
    const closeCodes = new Map<number, number>();
    let sent = 0;
    let sentinel = 900_000_000;
    const deadline = Date.now() + 60_000;

    async function session(): Promise<void> {
      let c: ProtocolClient;
      try {
        c = await openProtocolClient(server.wsUrl);
      } catch (err) {
        findings.add('handshake failed', (err as Error).message);
        return;
      }
      // Close codes count only when the server closed: ours (1005 from close(), 1006 from terminate()) do not.
      let byUs = false;
      const closed = c.closed.then((x) => {
        if (byUs) return x;
        closeCodes.set(x.code, (closeCodes.get(x.code) ?? 0) + 1);
        if (!documented.has(x.code)) findings.add(`undocumented close code ${x.code}`, x.reason);
        return x;
      });
      /** Sends `frame` with a ping on its own line after it; resolves with what followed. */
      const probe = async (frame: string | Buffer): Promise<'reply' | 'closed' | 'silence'> => {
        const id = ++sentinel;
        c.ws.send(Buffer.concat([Buffer.from(frame), Buffer.from(`\n{"id":${id},"ping":{}}`)]), { binary: false });
        return Promise.race([
          c.take((m) => m.id === id, 'ping reply', 2000).then(() => 'reply' as const).catch(() => (c.isOpen ? 'silence' as const : 'closed' as const)),
          closed.then(() => 'closed' as const),
        ]);
      };
      // Connect (one time in ten a mutated connect); the connection is connected when it stays open.
      const connect: Record<string, unknown> = { id: 1, connect: {} };
      const connectFrame = r.chance(0.1) ? serialise(mutateValue(connect, r)) : JSON.stringify(connect);
      if ((await probe(connectFrame)) === 'silence') {
        findings.add('a connect frame got neither a reply nor a close', connectFrame.slice(0, 300));
        byUs = true;
        c.ws.terminate();
        return;
      }
      for (let k = 0; k < 8 && c.isOpen && sent < PROTOCOL_FRAMES && Date.now() < deadline; k++) {
        sent++;
        let frame: string | Buffer = JSON.stringify({ id: 2 + k, ...validCommand(r) });
        for (let m = 1 + r.int(2); m > 0; m--) {
          if (typeof frame !== 'string') break;
          if (r.chance(0.6)) {
            try {
              frame = serialise(mutateValue(JSON.parse(frame), r));
            } catch {
              frame = mutateText(frame, r, PROTOCOL_LIMIT_BYTES);
            }
          } else frame = mutateText(frame, r, PROTOCOL_LIMIT_BYTES);
        }
        // A ping on its own line after the mutated one: the frame is answered (a reply to it) or the connection closes.
        if ((await probe(frame)) === 'silence') {
          findings.add('a frame got neither a reply nor a close', frame.toString().slice(0, 300));
          byUs = true;
          c.ws.terminate();
          return;
        }
      }
      if (c.isOpen) {
        byUs = true;
        c.close();
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((res) => (timer = setTimeout(res, 2000)))]);
      clearTimeout(timer);
      const badLines = c.invalidLines;
      if (badLines.length > 0) findings.add('the server sent a line that is not a JSON object', badLines[0]!);
    }

    // At most one session per frame (most mutated frames end their connection with 3501).
    await pool(PROTOCOL_FRAMES, 16, async () => {
      if (sent < PROTOCOL_FRAMES && Date.now() < deadline) await session();
    });
    assert.ok(sent >= PROTOCOL_FRAMES * 0.9, `only ${sent} of ${PROTOCOL_FRAMES} frames sent before the deadline`);
    findings.assertNone('the protocol endpoint broke its contract');
    assert.ok((closeCodes.get(3501) ?? 0) > 0, `no 3501 among ${JSON.stringify([...closeCodes])}`);
    await assertStillServes(server);
  });

  it('closes 3501 (or answers) when a publish carries data nested 100,000 levels deep', async () => {
    const c = await connectedClient(server.wsUrl);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    c.send(`{"id":2,"publish":{"channel":"chat:deep","data":${deep}}}\n{"id":3,"ping":{}}`);
    const outcome = await Promise.race([
      c.reply(3, 3000).then(() => 'answered').catch(() => 'silence'),
      c.closed.then((x) => `closed ${x.code}`),
    ]);
    assert.ok(outcome === 'answered' || outcome === 'closed 3501', `expected a reply to the ping or close 3501, got ${outcome}`);
    c.ws.terminate();
  });

  it('is still running afterwards and logged no error-level line (no internal failure)', () => {
    assert.equal(server.child.exitCode, null, 'the canal process exited');
    assert.deepEqual(server.errorLogs.slice(0, 3).map((l) => l.slice(0, 400)), [], `${server.errorLogs.length} error lines`);
  });
});
