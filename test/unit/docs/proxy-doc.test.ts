/**
 * docs/proxy.md's literal JSON is canal's: every request line of an event's section is what
 * src/proxy/wire.ts writes for the same members, byte for byte; every answer line is read by
 * that event's reader (a `result`, or the backend's own error or disconnect), never refused as
 * unreadable; and the failure table shows exactly what the client is told.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PROXY_FAILURE_MESSAGES } from '../../../src/proxy/errors.js';
import {
  AnswerError, connectRequest, publishRequest, readConnectAnswer, readPublishAnswer, readRefreshAnswer, readRpcAnswer,
  readSubscribeAnswer, refreshRequest, rpcRequest, subRefreshRequest, subscribeRequest,
} from '../../../src/proxy/wire.js';
import type { JsonText } from '../../../src/protocol/types.js';

const doc = readFileSync(new URL('../../../docs/proxy.md', import.meta.url), 'utf8');

/** The text of the `## <name>` section, up to the next `## `. */
function section(name: string): string {
  const start = doc.indexOf(`\n## ${name}\n`);
  assert.ok(start >= 0, `docs/proxy.md has no section "## ${name}"`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Every line of the ```text blocks of a section. */
function textLines(text: string): string[] {
  return [...text.matchAll(/```text\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').filter((l) => l.trim() !== ''));
}

type Members = Record<string, unknown>;
const json = (v: unknown): JsonText | undefined => (v === undefined ? undefined : JSON.stringify(v) as JsonText);

/** The members every request starts with, and user/meta, as wire.ts takes them. */
function caller(m: Members): { client: string; transport: string; protocol: string; binary: boolean; user: string; meta?: JsonText } {
  const out = { client: m.client as string, transport: m.transport as string, protocol: m.protocol as string, binary: m.encoding === 'binary', user: m.user as string };
  return m.meta === undefined ? out : { ...out, meta: json(m.meta)! };
}

/** The client's data as wire.ts takes it: JSON text, or the bytes behind `b64data`. */
function data(m: Members): { data?: JsonText } {
  if (typeof m.b64data === 'string') return { data: Buffer.from(m.b64data, 'base64').toString('utf8') as JsonText };
  return m.data === undefined ? {} : { data: json(m.data)! };
}

const EVENTS = {
  connect: {
    request: (m: Members) => connectRequest({
      client: m.client as string, transport: m.transport as string, protocol: m.protocol as string, binary: m.encoding === 'binary',
      ...data(m), ...(m.name === undefined ? {} : { name: m.name as string }), ...(m.version === undefined ? {} : { version: m.version as string }),
      channels: (m.channels as string[] | undefined) ?? [],
    }),
    read: readConnectAnswer,
  },
  refresh: { request: (m: Members) => refreshRequest(caller(m)), read: readRefreshAnswer },
  subscribe: { request: (m: Members) => subscribeRequest({ ...caller(m), channel: m.channel as string, ...data(m) }), read: readSubscribeAnswer },
  publish: { request: (m: Members) => publishRequest({ ...caller(m), channel: m.channel as string, data: data(m).data! }), read: readPublishAnswer },
  sub_refresh: { request: (m: Members) => subRefreshRequest({ ...caller(m), channel: m.channel as string }), read: readRefreshAnswer },
  rpc: { request: (m: Members) => rpcRequest({ ...caller(m), method: m.method as string, ...data(m) }), read: readRpcAnswer },
} as const;

describe('docs/proxy.md', () => {
  for (const [event, { request, read }] of Object.entries(EVENTS)) {
    it(`shows ${event} requests exactly as canal writes them, and answers canal reads`, () => {
      const lines = textLines(section(event));
      const requests = lines.filter((l) => l.startsWith('{"client":'));
      const answers = lines.filter((l) => !l.startsWith('{"client":'));
      assert.ok(requests.length >= 1, `the ${event} section shows its request`);
      assert.ok(answers.length >= 1, `the ${event} section shows answers`);
      for (const line of requests) assert.equal(request(JSON.parse(line) as Members), line);
      for (const line of answers) {
        try {
          read(line);
        } catch (err) {
          assert.ok(!(err instanceof AnswerError), `canal cannot read the documented ${event} answer ${line}: ${(err as Error).message}`);
          const answer = JSON.parse(line) as Members;
          assert.ok(answer.error !== undefined || answer.disconnect !== undefined, `${line} failed without being an error or disconnect answer`);
        }
      }
    });
  }

  it('shows in its failure table exactly the messages the client gets', () => {
    const shown = [...section('When the backend fails').matchAll(/`(\{"code":100,[^`]*\})`/g)].map((m) => JSON.parse(m[1]!) as { code: number; message: string; temporary: boolean });
    assert.deepEqual(shown.map((e) => e.message), Object.values(PROXY_FAILURE_MESSAGES));
    assert.ok(shown.every((e) => e.temporary));
  });
});
