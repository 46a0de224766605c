/**
 * A chunked server API body that grows past max_message_bytes: canal answers 413 once the
 * limit is passed and closes the connection without reading the rest.
 *
 * On Node only. On Bun the 413 is written too, but Bun closes the connection while the client
 * is still sending, and the client's kernel may drop the answer on the reset that follows
 * (README, "Run it on Bun": what differs); the declared-length case (api-long-calls.test.ts)
 * runs on both.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sendHugeBody } from '../helpers/http.js';
import { startServer } from '../helpers/server.js';

describe('a chunked API body over the limit', async () => {
  const server = await startServer({ max_message_bytes: 64 * 1024 });

  it('answers 413 once it passes the limit, and closes the connection', async () => {
    const head = `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.canal.apiKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const { response, sent } = await sendHugeBody(server.port, head, true);
    assert.match(response, /^HTTP\/1\.1 413 /);
    assert.ok(sent < 8 * 1024 * 1024, `the server read all ${sent} bytes before closing`);
  });
});
