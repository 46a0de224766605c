/**
 * How an outbox writes a publication's frame to a TCP socket on Node (the outbox's
 * DirectWrites): straight to the socket's libuv handle when the socket's stream holds nothing,
 * else through `socket.write`.
 *
 * `socket.write` runs Node's whole Writable machinery per call (the stream's state, a
 * callback and a `nextTick` per write, the socket's timer, its write-generic path) before the
 * handle's `writeBuffer`. For a fan-out that is one call per subscriber per publication: in one
 * server process switched between the two every 4 s at the fixed fan-out load, the handle path
 * took 8% of the CPU per delivery off at 1,000 subscribers (docs/benchmarks.md, "The socket's
 * handle written directly"). What the handle path skips is only bookkeeping for callers that
 * need it: the socket's inactivity timer (ws sets none: `setTimeout(0)` on every socket it
 * takes), write callbacks and 'drain' (the outbox reads the backlog instead); the handle counts
 * the bytes in `bytesWritten` all the same.
 *
 * The handle path does what Node's own `writeGeneric` does for a Buffer: a `WriteWrap` request
 * object, the handle's `writeBuffer`, and when libuv could not hand every byte to the kernel at
 * once, the buffer kept alive on the request until libuv calls its `oncomplete` (set only then).
 * A write the kernel took whole never reads its request, so the same one serves the next write:
 * a fan-out allocates nothing per delivery. It is
 * taken only when nothing can be overtaken and nothing is to be joined: no byte waits in the
 * stream (a chunk there may not have been handed to libuv yet) and the socket is not corked. Bytes waiting in libuv's own queue (a write, direct or not,
 * that the kernel did not take whole) need no such care: while that queue is not empty, libuv
 * appends every write to it, so whatever follows — the next publication, a reply, ws's ping or
 * closing frame — leaves in the order it was written. The stream does not count a direct
 * write's bytes waiting there; the outbox, told the write went asynchronous, asks for libuv's
 * queue too until it is empty (DirectWrites.unsent), so the slow-consumer limit sees them.
 *
 * `WriteWrap` comes from `process.binding('stream_wrap')` (Node's documented-only deprecation
 * DEP0111; it throws under the permission model, and Bun has none): when it is missing or not
 * what this relies on, every write goes through `socket.write`. The contract is pinned by
 * test/unit/transport/socket-writes.test.ts, which fails loudly on a Node that changes it.
 */
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { DirectWrites } from '../session/outbox.js';

/** The parts of Node's TCP handle (a LibuvStreamWrap) this relies on. */
interface StreamHandle {
  /** Bytes in libuv's write queue, not yet taken by the kernel. */
  readonly writeQueueSize: number;
  /** Writes `bytes` (tried synchronously first); returns 0 or a negative errno. */
  writeBuffer(req: WriteRequest, bytes: Uint8Array): number;
}

/**
 * A `WriteWrap`: the request object of a write. Node's C++ reads nothing of it when the kernel
 * took every byte at once; when not, it calls its `oncomplete` once libuv is done.
 */
interface WriteRequest {
  oncomplete: (this: WriteRequest, status: number) => void;
  /** The bytes being written: kept alive until the write completes. */
  buffer: Uint8Array | null;
  /** Which socket it wrote to (for a failure reported later). */
  socket: Socket;
}

/** The parts of `process.binding('stream_wrap')` used here. */
interface StreamWrapBinding {
  WriteWrap: new () => WriteRequest;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

/** The parts of a net.Socket's internals read here. */
interface SocketInternals {
  _handle: StreamHandle | null;
  _writableState: { length: number; corked: number; ending: boolean; destroyed: boolean };
}

/** Node's `stream_wrap` binding, or undefined where it is missing or not as expected. */
export function streamWrapBinding(): StreamWrapBinding | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    if (typeof binding.WriteWrap === 'function' && binding.streamBaseState instanceof Int32Array && typeof binding.kLastWriteWasAsync === 'number') {
      return binding as StreamWrapBinding;
    }
  } catch {
    // The permission model, a runtime without bindings: socket.write it is.
  }
  return undefined;
}

/** A write that went asynchronous has ended: a failure ends the socket as Node's own would. */
function writeDone(this: WriteRequest, status: number): void {
  this.buffer = null;
  if (status < 0 && !this.socket.destroyed) this.socket.destroy(errnoError(status));
}

/** The error Node's own write path would give for `status` (a negative errno): `write EPIPE`, code EPIPE. */
function errnoError(status: number): Error {
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`write ${code}`), { errno: status, code, syscall: 'write' });
}

/**
 * Bytes written to `socket` and not yet taken by the kernel. `afterAsync`: a direct write to it
 * went asynchronous and no call since found it empty, so libuv's queue may hold bytes the stream
 * does not count (reading the queue's size is a call into C++: only then is it made).
 */
function unsentOf(socket: SocketInternals, afterAsync: boolean): number {
  const queued = socket._writableState.length;
  const handle = socket._handle;
  if (!afterAsync || handle === null) return queued;
  // The stream's chunks still in libuv count in both; a direct write's only in libuv's queue.
  return Math.max(queued, handle.writeQueueSize);
}

/** Bytes written to `socket` and not yet taken by the kernel, wherever they wait (the stream, libuv's queue). */
export function socketUnsent(socket: Socket): number {
  return unsentOf(socket as unknown as SocketInternals, true);
}

/** The DirectWrites of `binding`, or those through `socket.write` only when it is undefined. */
export function socketWritesWith(binding: StreamWrapBinding | undefined): DirectWrites {
  const unsent = (stream: object, afterAsync: boolean): number => unsentOf(stream as SocketInternals, afterAsync);
  if (binding === undefined) {
    return {
      unsent,
      write(stream: object, bytes: Uint8Array): boolean {
        if ((stream as Socket).writable) (stream as Socket).write(bytes);
        return false;
      },
    };
  }
  const { WriteWrap, streamBaseState, kLastWriteWasAsync } = binding;
  /**
   * The request of the next write. Node's C++ binds a request to its write only when the kernel
   * did not take every byte at once (StreamBase::Write tries the write first, and returns before
   * reading the request when it went through): until then one object serves write after write.
   * Measured in one process switched every 4 s at the fixed fan-out load: 0.93 of the CPU per
   * delivery against a new request per write (docs/benchmarks.md). Taken out while a write runs,
   * so a write made from within one (an async hook) makes its own.
   */
  let spare: WriteRequest | undefined = new WriteWrap();
  return {
    unsent,
    write(stream: object, bytes: Uint8Array): boolean {
      const socket = stream as SocketInternals;
      const handle = socket._handle;
      const state = socket._writableState;
      // A chunk held in the stream (corked, or behind one being written) must go first, and a
      // corked socket's writes are to leave together: through the stream, then. Bytes in
      // libuv's queue need no such care: libuv appends whatever comes while it is not empty.
      if (handle === null || state.length !== 0 || state.corked !== 0 || state.ending || state.destroyed) {
        if ((stream as Socket).writable) (stream as Socket).write(bytes);
        return false;
      }
      const req = spare ?? new WriteWrap();
      spare = undefined;
      const status = handle.writeBuffer(req, bytes);
      if (status !== 0) {
        (stream as Socket).destroy(errnoError(status));
        return false;
      }
      if (streamBaseState[kLastWriteWasAsync] === 0) {
        spare = req; // the kernel took it all: Node did not touch req
        return false;
      }
      // libuv writes the rest later and then calls req.oncomplete (never before this returns).
      req.oncomplete = writeDone;
      req.socket = stream as Socket;
      req.buffer = bytes; // the bytes must live until then
      return true;
    },
  };
}

/** The Node transport's DirectWrites. */
export const socketWrites: DirectWrites = socketWritesWith(streamWrapBinding());
