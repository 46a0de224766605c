/** `canal serve`: run the server with the configuration from file < env < flags. */
import { Canal, ListenError } from '../canal.js';
import { ConfigError, formatProblem, resolveConfig } from '../config/resolve.js';
import { envName, flagName, OPTIONS, type Config, type OptionKey, type OptionSpec } from '../config/schema.js';
import { formatDuration } from '../config/values.js';
import { createDemos } from '../demos/index.js';
import { EngineUnavailableError } from '../engine/types.js';
import { createLogger } from '../log.js';
import { configFlagOptions, configFlagValues, parse } from './args.js';
import { optionEnvironment, readConfigFile } from './config-file.js';
import { devFilePath, removeDevFile, writeDevFile } from './dev-file.js';
import { withDefined } from '../util/defined.js';
import { formatOptions, wrapText, type HelpOption } from './help.js';
import { ExitCode, type CliIo } from './io.js';

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
      '--shutdown-drain-window), then exits 0.',
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

  // Dev mode runs the demos' server side (the game, the scoreboard admin) in this process.
  const demos = config.dev && config.demos ? createDemos() : undefined;
  const canal = new Canal({ ...config, ...demos?.handlers, logger: createLogger(config.log_level) });
  // Handlers go in before listening: a signal that arrives as soon as the line is printed must
  // still close connections with 1001 and exit 0, not kill the process.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (): void => stop();
  let removeOnExit: (() => void) | undefined;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let address;
    try {
      address = await canal.listen();
    } catch (err) {
      if (err instanceof EngineUnavailableError) {
        io.err(`canal: ${err.message}; is Redis running? (check --redis-url, --redis-sentinels or --redis-cluster)`);
        await canal.close();
        return ExitCode.Failure;
      }
      if (!(err instanceof ListenError)) throw err;
      const env = envName(err.option);
      io.err(`canal: ${err.message}; choose another with ${flagName(err.option)}${env ? ` or ${env}` : ''}`);
      await canal.close();
      return ExitCode.Failure;
    }
    demos?.start(canal);
    const shown = config.host.includes(':') ? `[${config.host}]` : config.host;
    io.out(`canal listening on ws://${shown}:${address.port} (open http://${shown}:${address.port}/)`);
    if (config.api_key === undefined && canal.apiKey !== undefined) {
      const port = address.port;
      try {
        writeDevFile(port, withDefined({ url: `http://${shown}:${port}` }, {
          api_key: canal.apiKey,
          token_hmac_secret: config.token_hmac_secret === undefined ? canal.tokenSecret : undefined,
        }));
        // 'exit' runs on a normal end, after an uncaught exception and after process.exit(): the
        // secrets do not outlive the server unless it is killed with SIGKILL.
        removeOnExit = () => removeDevFile(port);
        process.on('exit', removeOnExit);
        io.out(`dev mode: server API key ${canal.apiKey} (canal publish, canal info and canal token find it on this machine)`);
      } catch (err) {
        io.err(`canal: could not write ${devFilePath(port)} (${(err as Error).message}); pass --api-key to the CLI commands instead`);
        io.out(`dev mode: server API key ${canal.apiKey}`);
      }
    }
    await stopped;
    demos?.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (removeOnExit) {
      removeOnExit();
      process.off('exit', removeOnExit);
    }
  }
  await canal.close();
  return ExitCode.Ok;
}
