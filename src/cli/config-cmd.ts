/** `canal config check FILE` and `canal config example`. */
import { randomBytes } from 'node:crypto';
import { ConfigError, formatProblem, PLACEHOLDER_PREFIX, resolveConfig } from '../config/resolve.js';
import { optionEnvironment, readConfigFile } from './config-file.js';
import { ExitCode, UsageError, type CliIo } from './io.js';

export const CONFIG_HELP = [
  'Usage: canal config check FILE',
  '       canal config example',
  '',
  '  check    reads FILE as "canal serve --config FILE" would (JSON; // and /* */',
  '           comments allowed; CANAL_* variables win over it) and reports every',
  '           wrong field with its path, its value and what is allowed',
  '  example  prints a commented example configuration to start from, with a random',
  '           API key and token secret of its own (canal refuses "replace-with-..."',
  '           values)',
  '',
  'Exit codes: 0 valid (or printed); 1 a problem was found or bad arguments.',
].join('\n');

/** The two secrets of a configuration file. */
export interface ExampleSecrets {
  readonly apiKey: string;
  readonly tokenSecret: string;
}

/**
 * Fresh random secrets: 24 bytes for the API key, 32 (the size of an HS256 key) for the token
 * secret, in hex so that no value starts with a dash a command line would take for a flag.
 */
export function randomSecrets(): ExampleSecrets {
  return { apiKey: randomBytes(24).toString('hex'), tokenSecret: randomBytes(32).toString('hex') };
}

/**
 * Placeholders where the secrets go, for the copy of the example in docs/config.md: canal
 * refuses them (see PLACEHOLDER_PREFIX), so a copied file cannot run with a published secret.
 */
export const PLACEHOLDER_SECRETS: ExampleSecrets = {
  apiKey: `${PLACEHOLDER_PREFIX}a-random-key`,
  tokenSecret: `${PLACEHOLDER_PREFIX}a-random-secret-of-32-characters-or-more`,
};

/** A commented configuration that `canal config check` accepts when `secrets` are real ones. */
export function exampleConfig(secrets: ExampleSecrets): string {
  return `// canal configuration (JSON with comments). Every option: docs/config.md.
// Flags and CANAL_* environment variables override what is here.
{
  // Where to listen. 127.0.0.1 takes connections from this machine only (a reverse proxy on
  // the same host, say). To open canal to the network use "0.0.0.0" (or "::" for IPv6 too),
  // with allowed_origins set below, and TLS ended by a proxy in front, such as the nginx of
  // docs/scaling.md.
  "host": "127.0.0.1",
  "port": 8765,
  "log_level": "info",

  // The server API key (POST /api/<method>, header X-API-Key). "canal config example" makes a
  // random one; keep it secret. canal publish and canal info read it with --config FILE.
  "api_key": ${JSON.stringify(secrets.apiKey)},

  // The secret that signs connection and subscription tokens (JWT, HS256): your backend signs
  // with it, and so does canal token --config FILE. Random as well; keep it secret.
  "token_hmac_secret": ${JSON.stringify(secrets.tokenSecret)},

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
}

export async function configCommand(io: CliIo, argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(CONFIG_HELP);
    return sub === undefined ? ExitCode.Failure : ExitCode.Ok;
  }
  if (sub === 'example') {
    if (rest.length > 0) throw new UsageError('config example takes no arguments');
    io.out(exampleConfig(randomSecrets()).trimEnd());
    return ExitCode.Ok;
  }
  if (sub === 'check') {
    if (rest.length !== 1) throw new UsageError('config check takes one FILE (see canal config --help)');
    const file = readConfigFile(rest[0]!);
    try {
      // As canal serve --config FILE would see it: CANAL_* variables win over the file (a
      // file may leave its secrets as placeholders for the environment to fill).
      resolveConfig({ file, env: optionEnvironment(io.env) });
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
