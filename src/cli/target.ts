/**
 * Which server a client command talks to, and with which secrets: flags, then `CANAL_*`
 * variables, then a config file, then — for a server on this machine in dev mode — the dev file
 * the server wrote at start.
 */
import { isLoopback } from '../config/resolve.js';
import { readConfigFile } from './config-file.js';
import { readDevFile } from './dev-file.js';
import { UsageError } from './io.js';

export interface Target {
  /** http://host:port, no trailing slash. */
  readonly httpUrl: string;
  readonly apiKey: string | undefined;
  readonly tokenSecret: string | undefined;
  /** Whether the server is on this machine, where a dev-mode server shares its secrets. */
  readonly local: boolean;
}

export const TARGET_FLAGS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TARGET_HELP = [
  '  --url URL        the server (default http://127.0.0.1:8765, or CANAL_URL);',
  '                   ws:// URLs are accepted',
  '  --api-key KEY    the server API key (or CANAL_API_KEY, or api_key in',
  '                   --config); a dev-mode server on this machine shares it',
  '                   by itself',
  '  --config FILE    read api_key, token_hmac_secret and port from the server\'s',
  '                   config file',
];

/** Resolves the target from parsed flag values and the environment. Throws UsageError on a bad URL. */
export function resolveTarget(values: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): Target {
  const file = typeof values.config === 'string' ? readConfigFile(values.config) : undefined;
  const fileData = (file?.data ?? {}) as Record<string, unknown>;
  const fromFile = (key: string): string | undefined => (typeof fileData[key] === 'string' ? (fileData[key] as string) : undefined);
  const defaultUrl = `http://127.0.0.1:${typeof fileData.port === 'number' ? fileData.port : 8765}`;
  const raw = (values.url as string | undefined) ?? env.CANAL_URL ?? defaultUrl;
  let url: URL;
  try {
    url = new URL(raw.replace(/^ws(s?):/, 'http$1:'));
  } catch {
    throw new UsageError(`--url ${JSON.stringify(raw)} is not a URL (e.g. http://127.0.0.1:8765)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http(s):// or ws(s)://, got ${raw}`);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const local = isLoopback(url.hostname.replace(/^\[|\]$/g, ''));
  const dev = local ? readDevFile(port) : undefined;
  return {
    httpUrl: url.origin,
    local,
    apiKey: (values['api-key'] as string | undefined) ?? env.CANAL_API_KEY ?? fromFile('api_key') ?? dev?.api_key,
    tokenSecret: (values['token-hmac-secret'] as string | undefined) ?? env.CANAL_TOKEN_HMAC_SECRET ?? fromFile('token_hmac_secret') ?? dev?.token_hmac_secret,
  };
}

/** Why a request failed to reach the server: `ECONNREFUSED`, `TimeoutError`... */
function failureCause(err: unknown): string {
  return (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
}

function unreachable(target: Target, cause: string): UsageError {
  return new UsageError(`cannot reach canal at ${target.httpUrl} (${cause}); is it running? (set --url)`);
}

/**
 * Resolves when a server answers GET /healthz at the target (any status); otherwise throws
 * what `fail` makes of the cause. A command that is missing a secret asks this first, because
 * a server that is not there is the more useful thing to say: its dev secrets cannot be found
 * either.
 */
export async function expectServer(target: Target, fail: (cause: string) => UsageError): Promise<void> {
  await fetch(`${target.httpUrl}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
    (res) => res.body?.cancel(),
    (err: unknown) => {
      throw fail(failureCause(err));
    },
  );
}

/** Calls the server API; resolves with the `result`, or throws UsageError with the server's words. */
export async function callApi(target: Target, method: string, params: unknown): Promise<unknown> {
  if (target.apiKey === undefined) {
    await expectServer(target, (cause) => unreachable(target, cause));
    throw new UsageError('no API key: pass --api-key KEY or set CANAL_API_KEY (for a dev-mode server on this machine it is found automatically)');
  }
  let res: Response;
  try {
    res = await fetch(`${target.httpUrl}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw unreachable(target, failureCause(err));
  }
  let body: { result?: unknown; error?: { code: number; message: string } };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new UsageError(`${target.httpUrl} answered HTTP ${res.status} without JSON; is it a canal server?`);
  }
  if (body.error) throw new UsageError(`the server answered error ${body.error.code}: ${body.error.message}`);
  return body.result;
}
