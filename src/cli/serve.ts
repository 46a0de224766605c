/** `canal serve`: run the server with the configuration from file < env < flags. */
import { ConfigError, formatProblem, resolveConfig } from '../config/resolve.js';
import { envName, flagName, OPTIONS, type Config, type OptionKey, type OptionSpec } from '../config/schema.js';
import { formatDuration } from '../config/values.js';
import { createLogger } from '../log.js';
import { configFlagOptions, configFlagValues, parse } from './args.js';
import { optionEnvironment, readConfigFile } from './config-file.js';
import { formatOptions, wrapText, type HelpOption } from './help.js';
import { ExitCode, type CliIo } from './io.js';
import { runNode } from './run-node.js';
import { announceListening } from './serve-output.js';
import { isWorkerProcess, serveAsWorker } from './worker.js';
import { servePrimary, workerCount } from './workers.js';

/** The text of `canal serve --help`, built from the option table; it fits 80 columns. */
export function serveHelp(): string {
  const options: HelpOption[] = [{ flag: '--config FILE', doc: 'Read options from a JSON file (flags and CANAL_* variables win over it).', note: '(env CANAL_CONFIG)' }];
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const spec = OPTIONS[key] as OptionSpec<unknown>;
    const flag = flagName(key);
    if (!flag) continue;
    const env = envName(key);
    options.push({
      flag: spec.arg ? `${flag} ${spec.arg}` : `${flag}, --no-${flag.slice(2)}`,
      doc: spec.doc,
      note: `(default ${showDefault(spec)}${env ? `; env ${env}` : ''})`,
    });
  }
  options.push({ flag: '-h, --help', doc: 'Show this help.' });
  return [
    'Usage: canal serve [options]',
    '',
    ...wrapText(
      'Runs the canal server on one port: echo at ws://HOST:PORT/, channels (the Centrifugo ' +
      'client protocol, JSON or Protobuf) at /connection/websocket and, for clients whose network ' +
      'breaks WebSocket, at /connection/http_stream and /connection/sse (commands to /emulation), ' +
      'plain channels at /raw/<channel>, the server ' +
      'API at /api/<method>, and the demo pages at http://HOST:PORT/. Logs are JSON lines on ' +
      'stderr; the one line on stdout says where it listens. SIGINT or SIGTERM closes plain ' +
      'WebSockets with 1001 and protocol clients with 3001 (they reconnect, spread over ' +
      '--shutdown-drain-window), then exits 0. With --workers N, N processes serve the port ' +
      'together, a worker that dies is replaced, and a signal drains them all.',
      '',
    ),
    '',
    'Options (a config file takes the same names with underscores, e.g. "log_level";',
    'docs/config.md lists every one):',
    ...formatOptions(options),
    '',
    'Exit codes: 0 stopped by a signal; 1 bad option or cannot listen.',
  ].join('\n');
}

function showDefault(spec: OptionSpec<unknown>): string {
  if (spec.default === undefined) return 'unset';
  if (spec.parse.allowed.startsWith('a duration')) return formatDuration(spec.default as number);
  return JSON.stringify(spec.default);
}

/** Runs `canal serve`; resolves with the exit code once the server has stopped. */
export async function serve(io: CliIo, argv: readonly string[]): Promise<number> {
  // A worker of `canal serve --workers N` takes its configuration from its primary, which
  // resolved it from the same command line.
  if (isWorkerProcess(io.env)) return serveAsWorker(io);
  const { values } = parse(argv, { ...configFlagOptions(), config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, 'serve');
  if (values.help) {
    io.out(serveHelp());
    return ExitCode.Ok;
  }
  const configPath = typeof values.config === 'string' ? values.config : io.env.CANAL_CONFIG;
  let config: Config;
  try {
    config = resolveConfig({
      ...(configPath ? { file: readConfigFile(configPath) } : {}),
      env: optionEnvironment(io.env),
      flags: configFlagValues(values),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(`canal: ${formatProblem(p)}`);
    return ExitCode.Failure;
  }
  const workers = workerCount(config.workers);
  if (workers > 1) return servePrimary(io, config, workers);

  return runNode(io, config, {
    logger: createLogger(config.log_level),
    onListening: (canal, address) => {
      // Dev mode: the server API key is canal's own random one.
      const apiKey = config.api_key === undefined ? canal.apiKey : undefined;
      return announceListening(io, config, address.port, apiKey === undefined ? undefined : {
        apiKey,
        tokenSecret: config.token_hmac_secret === undefined ? canal.tokenSecret : undefined,
      });
    },
  });
}
