/** `canal config check FILE` and `canal config example`. */
import { ConfigError, formatProblem, resolveConfig } from '../config/resolve.js';
import { readConfigFile } from './config-file.js';
import { ExitCode, UsageError, type CliIo } from './io.js';

export const CONFIG_HELP = [
  'Usage: canal config check FILE',
  '       canal config example',
  '',
  '  check    reads FILE as canal would (JSON; // and /* */ comments allowed) and reports every',
  '           wrong field with its path, its value and what is allowed',
  '  example  prints a commented example configuration to start from',
  '',
  'Exit codes: 0 valid (or printed); 1 a problem was found or bad arguments.',
].join('\n');

/** A commented configuration that `canal config check` accepts. */
export const EXAMPLE_CONFIG = `// canal configuration (JSON with comments). Every option: docs/config.md.
// Flags and CANAL_* environment variables override what is here.
{
  // Where to listen. With a config file dev mode is off, so any host is allowed.
  "host": "0.0.0.0",
  "port": 8765,
  "log_level": "info",

  // The server API (POST /api/<method>, header X-API-Key). Change this value.
  "api_key": "replace-with-a-long-random-key",

  // Connection and subscription tokens (JWT, HS256). Change this value (32+ characters).
  "token_hmac_secret": "replace-with-a-random-secret-of-at-least-32-chars",

  // Browser pages allowed to connect; empty allows any origin.
  "allowed_origins": ["https://example.com"],

  "namespaces": {
    // chat:<room> — signed-in users talk; late joiners get history; reconnects recover.
    "chat": {
      "allow_subscribe_for_client": true,
      "allow_publish_for_subscriber": true,
      "history_size": 100,
      "history_ttl": "10m",
      "force_recovery": true,
      "presence": true,
      "join_leave": true,
      "allow_presence_for_subscriber": true,
      "allow_history_for_subscriber": true
    },
    // scores:<match> — a latest-value channel: viewers get the current score at once.
    "scores": {
      "allow_subscribe_for_client": true,
      "allow_subscribe_for_anonymous": true,
      "history_size": 1,
      "history_ttl": "24h",
      "force_recovery": true,
      "recovery_mode": "cache"
    }
  }
}
`;

export async function configCommand(io: CliIo, argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(CONFIG_HELP);
    return sub === undefined ? ExitCode.Failure : ExitCode.Ok;
  }
  if (sub === 'example') {
    if (rest.length > 0) throw new UsageError('config example takes no arguments');
    io.out(EXAMPLE_CONFIG.trimEnd());
    return ExitCode.Ok;
  }
  if (sub === 'check') {
    if (rest.length !== 1) throw new UsageError('config check takes one FILE (see canal config --help)');
    const file = readConfigFile(rest[0]!);
    try {
      resolveConfig({ file });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) io.err(`canal: ${formatProblem(p)}`);
      return ExitCode.Failure;
    }
    io.out(`${rest[0]!}: valid`);
    return ExitCode.Ok;
  }
  throw new UsageError(`unknown config subcommand "${sub}" (check, example; see canal config --help)`);
}
