/** Reading an HTTP request's body under a byte limit. */
import type { IncomingMessage } from 'node:http';

/**
 * Reads the body up to `limit` bytes. Resolves undefined as soon as it is known to be larger
 * (from Content-Length, or once that many bytes came), without reading the rest: the caller
 * answers 413 and closes the connection (a 300 MiB body was once read to its end). Rejects when
 * the request fails, e.g. the client went away mid-body.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
