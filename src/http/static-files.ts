/**
 * Static files: the demo pages from `web/`, and the official centrifuge browser client from
 * its npm package, so the demos never load code from a CDN. sirv serves only the files it
 * listed at start-up, so no request path can reach outside these folders.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import { sendText, SECURITY_HEADERS, type Handler } from './dispatcher.js';

/** The `web/` folder of the installed package (the same relative place from src/ and dist/). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** The folder holding `centrifuge.js`, the client's browser build (it defines `globalThis.Centrifuge`). */
export function centrifugeBrowserDir(): string {
  const main = createRequire(import.meta.url).resolve('centrifuge');
  return join(dirname(main), '..', 'dist');
}

/** A handler serving the files under `dir` to GET and HEAD (other methods: 405); unknown paths go to `next`. */
export function staticFiles(dir: string, options: { immutable?: boolean } = {}): Handler {
  const serve = sirv(dir, {
    dev: false,
    etag: true,
    dotfiles: false,
    extensions: ['html'],
    ...(options.immutable ? { maxAge: 3600 } : {}),
    setHeaders(res) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, `method ${req.method ?? ''} not allowed: pages are read with GET\n`, { allow: 'GET, HEAD' });
      return;
    }
    serve(req, res, next);
  };
}
