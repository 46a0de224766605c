/**
 * What canal's direct writes to a TCP socket rely on in Node (src/transport/socket-writes.ts):
 * `process.binding('stream_wrap')` with its WriteWrap and the last write's async flag, a socket's
 * `_handle` and `_writableState`; and what they promise the outbox: bytes in the order they were
 * written, whichever path each took, every unsent byte counted (libuv's queue too, once told a
 * write went asynchronous), nothing written once the socket ended, and a failure that ends the
 * socket instead of the process. Each behaviour is checked with Node's binding and without it
 * (every write through socket.write), the fallback where the binding is missing. A Node that
 * changes the internals fails here, loudly.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { DirectWrites } from '../../../src/session/outbox.js';
import { socketUnsent, socketWrites, socketWritesWith, streamWrapBinding } from '../../../src/transport/socket-writes.js';

describe('direct writes to a TCP socket', async () => {
  const server = createServer();
  const accepted: Socket[] = [];
  server.on('connection', (s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const open: Socket[] = [];
  after(() => {
    for (const s of open) s.destroy();
    server.close();
  });

  /** A connected pair: the server's socket, and a client that collects what it reads. */
  async function pair(): Promise<{ socket: Socket; client: Socket; received: () => Buffer }> {
    const count = accepted.length;
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    while (accepted.length === count) await new Promise((r) => setImmediate(r));
    const socket = accepted[accepted.length - 1]!;
    open.push(socket, client);
    socket.on('error', () => {});
    client.on('error', () => {});
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    return { socket, client, received: () => Buffer.concat(chunks) };
  }

  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  it("finds Node's stream_wrap binding as canal uses it", () => {
    const binding = streamWrapBinding();
    assert.ok(binding, "process.binding('stream_wrap') is missing or changed: every direct write would go through socket.write");
    assert.equal(typeof new binding.WriteWrap(), 'object');
    assert.ok(binding.streamBaseState instanceof Int32Array);
    assert.equal(typeof binding.kLastWriteWasAsync, 'number');
  });

  const variants: Array<[string, DirectWrites]> = [['through the handle', socketWrites], ['through socket.write (no binding)', socketWritesWith(undefined)]];
  for (const [name, writes] of variants) {
    describe(name, () => {
      it("keeps the order of direct writes and the stream's own, corked or not", async () => {
        const { socket, received } = await pair();
        writes.write(socket, Buffer.from('a'));
        socket.write('b');
        socket.cork();
        socket.write('c'); // held in the stream until uncork
        writes.write(socket, Buffer.from('d')); // must not overtake it
        socket.uncork();
        writes.write(socket, Buffer.from('e'));
        await until(() => received().length === 5, 'five bytes');
        assert.equal(String(received()), 'abcde');
      });

      it('leaves a corked socket\'s writes to the stream, to go out together at uncork', async () => {
        const { socket, received } = await pair();
        socket.cork();
        writes.write(socket, Buffer.from('x'));
        assert.equal(socket.writableLength, 1, 'held in the stream while corked');
        socket.write('y');
        socket.uncork();
        await until(() => received().length === 2, 'two bytes');
        assert.equal(String(received()), 'xy');
      });

      it('counts what the kernel did not take, and delivers every byte in order once the peer reads, episode after episode', async () => {
        const { socket, client, received } = await pair();
        const CHUNK = 16 * 1024;
        const chunk = (i: number): Buffer => Buffer.alloc(CHUNK, 48 + (i % 10));
        let chunks = 0;
        let total = 0;
        // Three times over: writes the kernel takes at once, then more than it takes while the
        // peer does not read (a request bound to a queued write, and another after it), then
        // everything drained. Each write's request is one the previous writes left, or a new one.
        for (let episode = 0; episode < 3; episode++) {
          for (let i = 0; i < 8; i++) assert.equal(writes.write(socket, chunk(chunks++)), false, 'taken at once while the peer reads');
          total += 8 * CHUNK;
          await until(() => received().length === total, `${total} bytes`);
          client.pause();
          let wentAsync = false;
          // Until the kernel's buffers are full and bytes wait in the process: at most 64 MiB.
          for (let i = 0; !wentAsync && socketUnsent(socket) === 0 && i < 4096; i++) {
            wentAsync = writes.write(socket, chunk(chunks++));
            total += CHUNK;
          }
          const unsent = socketUnsent(socket);
          assert.ok(unsent > 0, 'the peer does not read: bytes wait');
          assert.equal(writes.unsent(socket, true), unsent);
          if (writes === socketWrites) {
            assert.ok(wentAsync, 'the write the kernel did not take whole went asynchronous');
            assert.equal(writes.unsent(socket, false), 0, 'the stream does not count it: only libuv does');
            // libuv's queue is not empty: the next direct write goes behind it.
            assert.equal(writes.write(socket, chunk(chunks++)), true);
          } else {
            assert.equal(wentAsync, false, 'through socket.write, nothing is reported asynchronous');
            assert.equal(writes.unsent(socket, false), unsent, 'the stream counts its own');
            writes.write(socket, chunk(chunks++));
          }
          socket.write('end');
          total += CHUNK + 3;
          client.resume();
          await until(() => received().length === total, `${total} bytes`);
          await until(() => writes.unsent(socket, true) === 0, 'nothing left unsent');
          chunks++; // the 'end' marker's place, in the count below
        }
        const bytes = received();
        for (let i = 0, at = 0; i < chunks; i++) {
          if (bytes[at] === 0x65 /* e */) {
            assert.equal(String(bytes.subarray(at, at + 3)), 'end', "the stream's write after an episode's direct writes came after them");
            at += 3;
            continue;
          }
          assert.equal(bytes[at], 48 + (i % 10), `chunk ${i} is in its place`);
          at += CHUNK;
        }
      });

      it('writes nothing once the socket ended or was destroyed, and does not throw', async () => {
        const { socket, client, received } = await pair();
        writes.write(socket, Buffer.from('before'));
        socket.end();
        writes.write(socket, Buffer.from('after end'));
        await once(client, 'end');
        assert.equal(String(received()), 'before');
        const other = await pair();
        other.socket.destroy();
        assert.equal(writes.write(other.socket, Buffer.from('after destroy')), false);
        assert.equal(writes.unsent(other.socket, true), 0);
      });
    });
  }

  it('ends the socket with an error, not the process, when a write that went asynchronous fails', async () => {
    const { socket, client } = await pair();
    // Neither side reads: the server's socket stops reading once its buffer is full, so the
    // peer's reset reaches it through the write libuv still has queued, not through a read.
    socket.pause();
    client.pause();
    client.write(Buffer.alloc(256 * 1024));
    const big = Buffer.alloc(1024 * 1024, 1);
    let async = false;
    for (let i = 0; i < 64 && !async; i++) async = socketWrites.write(socket, big);
    assert.ok(async, 'a direct write went asynchronous');
    const errors: Array<Error & { code?: string; syscall?: string }> = [];
    socket.on('error', (err) => errors.push(err));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((r) => setTimeout(r, 20));
    client.resetAndDestroy();
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the socket did not close within 5 s')), 5000).unref())]);
    assert.equal(socket.destroyed, true);
    assert.equal(errors.length, 1, 'one error');
    assert.equal(errors[0]!.syscall, 'write', 'reported by the write that failed');
    assert.match(errors[0]!.message, /^write E[A-Z]+$/);
    assert.equal(socketWrites.write(socket, big), false, 'a destroyed socket takes nothing');
  });
});
