/** `canal publish CHANNEL DATA`: publish through the server API. */
import { plainToData } from '../session/plain-session.js';
import { parse } from './args.js';
import { ExitCode, UsageError, type CliIo } from './io.js';
import { callApi, resolveTarget, TARGET_FLAGS, TARGET_HELP } from './target.js';

export const PUBLISH_HELP = [
  'Usage: canal publish CHANNEL DATA [options]',
  '',
  'Publishes DATA to CHANNEL through the server API (POST /api/publish) and prints its position.',
  'DATA is JSON ({"home":2,"away":1}, 42, "text"); text that is not JSON is sent as a JSON string.',
  '',
  'Options:',
  ...TARGET_HELP,
  '  --idempotency-key KEY  publish at most once per KEY within 5 minutes',
  '  -h, --help       show this help',
  '',
  'Example: canal publish scores:final \'{"home":2,"away":1}\'',
  'Exit codes: 0 published; 1 bad arguments, server unreachable, or refused (the reason is printed).',
].join('\n');

export async function publish(io: CliIo, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...TARGET_FLAGS, 'idempotency-key': { type: 'string' } }, 'publish', true);
  if (values.help) {
    io.out(PUBLISH_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 2) throw new UsageError('publish takes CHANNEL and DATA (see canal publish --help)');
  const [channel, text] = positionals as [string, string];
  const target = resolveTarget(values, io.env);
  const params: Record<string, unknown> = { channel, data: JSON.parse(plainToData(text)) };
  if (typeof values['idempotency-key'] === 'string') params.idempotency_key = values['idempotency-key'];
  const result = (await callApi(target, 'publish', params)) as { offset?: number; epoch?: string };
  io.out(result.offset ? `published to ${channel}: offset ${result.offset}, epoch ${result.epoch ?? ''}` : `published to ${channel} (the channel keeps no history)`);
  return ExitCode.Ok;
}
