/**
 * Static files: the demo pages from `web/`, and the official centrifuge browser client from
 * its npm package, so the demos never load code from a CDN. sirv serves only the files it
 * listed at start-up, so no request path can reach outside these folders. Inside the standalone
 * executable (`npm run build:binary`) the same files are embedded, where sirv cannot stream
 * them: {@link embeddedFiles} serves them from memory with the same rules.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import sirv from 'sirv';
import { inBinary, packagePath } from '../util/package-path.js';
import { sendText, SECURITY_HEADERS, type Handler } from './dispatcher.js';

/** The `web/` folder of the installed package (the same relative place from src/ and dist/). */
export const WEB_ROOT = packagePath(import.meta.url, '../../web/', 'web/');

/** The folder holding `centrifuge.js`, the client's browser build (it defines `globalThis.Centrifuge`). */
export function centrifugeBrowserDir(): string {
  if (inBinary(import.meta.url)) return packagePath(import.meta.url, '', 'centrifuge/');
  const main = createRequire(import.meta.url).resolve('centrifuge');
  return join(dirname(main), '..', 'dist');
}

/** A handler serving the files under `dir` to GET and HEAD (other methods: 405); unknown paths go to `next`. */
export function staticFiles(dir: string, options: { immutable?: boolean } = {}): Handler {
  const serve = inBinary(import.meta.url) ? embeddedFiles(dir, options) : sirv(dir, {
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

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

interface EmbeddedFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/**
 * The files under `dir` (listed at start, read at start: a few hundred KB), served as sirv
 * serves them here: `/a` finds `a`, `a.html` or `a/index.html`, no dotfiles, an ETag and 304,
 * the security headers, and an hour's cache for the immutable client bundle.
 */
function embeddedFiles(dir: string, options: { immutable?: boolean }): Handler {
  const files = new Map<string, EmbeddedFile>();
  const walk = (folder: string, prefix: string): void => {
    for (const name of readdirSync(folder)) {
      if (name.startsWith('.')) continue;
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        walk(path, `${prefix}${name}/`);
        continue;
      }
      const body = readFileSync(path);
      const etag = `W/"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
      files.set(`${prefix}${name}`, { body, type: TYPES[extname(name)] ?? 'application/octet-stream', etag });
    }
  };
  walk(dir, '/');
  return (req, res, next) => {
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?', 1)[0]!);
    } catch {
      next();
      return;
    }
    const base = path.endsWith('/') ? path.slice(0, -1) : path;
    const file = files.get(path) ?? files.get(`${base}.html`) ?? files.get(`${base}/index.html`);
    if (!file) {
      next();
      return;
    }
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS, 'content-type': file.type, 'content-length': file.body.length, etag: file.etag,
      ...(options.immutable ? { 'cache-control': 'public,max-age=3600' } : {}),
    };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
