/** `canal token`: mint a connection (or subscription) token with the server's HS256 secret. */
import { SignJWT } from 'jose';
import { duration } from '../config/values.js';
import { parse } from './args.js';
import { ExitCode, UsageError, type CliIo } from './io.js';
import { expectServer, resolveTarget, TARGET_FLAGS } from './target.js';

export const TOKEN_HELP = [
  'Usage: canal token --user ID [options]',
  '',
  'Prints a JWT (HS256) for a client of the server: a connection token, or with',
  '--channel a subscription token. The secret is the server\'s token_hmac_secret.',
  '',
  'Options:',
  '  --user ID        the user id (the "sub" claim); required ("" for anonymous)',
  '  --ttl DURATION   lifetime, e.g. 30s, 10m, 1h, 24h (default 1h; 0: no expiry)',
  '  --info JSON      shown to others as conn_info (or chan_info with --channel)',
  '  --channels A,B   channels the server subscribes the connection to',
  '  --channel CH     a subscription token for CH instead of a connection token',
  '  --token-hmac-secret SECRET',
  '                   the secret (or CANAL_TOKEN_HMAC_SECRET, or --config); a',
  '                   dev-mode server on this machine shares it by itself',
  '  --url URL        the dev-mode server whose secret to use',
  '                   (default http://127.0.0.1:8765)',
  '  --config FILE    read token_hmac_secret from the server\'s config file',
  '  -h, --help       show this help',
  '',
  'Exit codes: 0 printed; 1 bad arguments, or no secret (and no dev server to take',
  'it from).',
].join('\n');

const ttlParser = duration(0, 366 * 24 * 3_600_000);

export async function token(io: CliIo, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...TARGET_FLAGS,
    user: { type: 'string' }, ttl: { type: 'string' }, info: { type: 'string' }, channels: { type: 'string' },
    channel: { type: 'string' }, 'token-hmac-secret': { type: 'string' },
  }, 'token', true);
  if (values.help) {
    io.out(TOKEN_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length > 0) throw new UsageError('token takes no arguments, only flags (see canal token --help)');
  if (typeof values.user !== 'string') throw new UsageError('--user ID is required (see canal token --help)');
  const target = resolveTarget(values, io.env);
  const secret = target.tokenSecret;
  if (!secret) {
    // On this machine the secret is looked for in the dev file of the server at the URL: with
    // no server there, say that, and how to start one, rather than blame a missing secret.
    if (target.local) {
      await expectServer(target, (cause) => new UsageError(
        `no dev server answers at ${target.httpUrl} (${cause}): start one with "canal serve" ` +
        '(canal token finds its secret on this machine), or pass --token-hmac-secret SECRET or set CANAL_TOKEN_HMAC_SECRET',
      ));
    }
    throw new UsageError(
      `no token secret: the server at ${target.httpUrl} shares none with this machine (only canal serve in dev mode does); ` +
      'pass --token-hmac-secret SECRET, set CANAL_TOKEN_HMAC_SECRET, or give the server\'s --config FILE',
    );
  }
  let ttlMs = 3_600_000;
  if (typeof values.ttl === 'string') {
    try {
      ttlMs = ttlParser(values.ttl);
    } catch {
      throw new UsageError(`--ttl must be ${ttlParser.allowed}, got ${JSON.stringify(values.ttl)}`);
    }
  }
  const claims: Record<string, unknown> = {};
  if (typeof values.info === 'string') {
    try {
      claims.info = JSON.parse(values.info);
    } catch {
      throw new UsageError(`--info must be JSON, got ${JSON.stringify(values.info)}`);
    }
  }
  if (typeof values.channels === 'string') claims.channels = values.channels.split(',').map((c) => c.trim()).filter(Boolean);
  if (typeof values.channel === 'string') claims.channel = values.channel;
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(values.user).setIssuedAt();
  if (ttlMs > 0) jwt = jwt.setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000));
  io.out(await jwt.sign(new TextEncoder().encode(secret)));
  return ExitCode.Ok;
}
