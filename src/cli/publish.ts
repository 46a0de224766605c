/** `canal publish CHANNEL DATA`: publish through the server API. */
import { findJsonSyntaxError } from '../config/json-syntax.js';
import { plainToData } from '../session/plain-session.js';
import { parse } from './args.js';
import { ExitCode, UsageError, type CliIo } from './io.js';
import { callApi, resolveTarget, TARGET_FLAGS, TARGET_HELP } from './target.js';

export const PUBLISH_HELP = [
  'Usage: canal publish CHANNEL DATA [options]',
  '',
  'Publishes DATA to CHANNEL through the server API (POST /api/publish) and prints',
  'its position. DATA is JSON: {"home":2,"away":1}, [1,2], 42, "text", true. DATA',
  'that starts with { or [ must be valid JSON, or nothing is published; other text',
  'that is not JSON is sent as a JSON string.',
  '',
  'Options:',
  ...TARGET_HELP,
  '  --text           send DATA as a JSON string, as written, even when it looks',
  '                   like JSON',
  '  --idempotency-key KEY',
  '                   publish at most once per KEY within 5 minutes',
  '  -h, --help       show this help',
  '',
  'Example: canal publish scores:final \'{"home":2,"away":1}\'',
  'Exit codes: 0 published; 1 bad arguments or DATA, server unreachable, or refused',
  '(the reason is printed).',
].join('\n');

/**
 * The data that DATA stands for. With `asText`, the string as written. Otherwise DATA that
 * starts with { or [ is meant as JSON, so it must parse (a missing brace must not publish a
 * string over a latest-value channel, issue 16); other text is JSON when it parses, a string
 * when not.
 */
export function publicationData(text: string, asText: boolean): unknown {
  if (asText) return text;
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      const at = findJsonSyntaxError(text);
      const where = at ? ` at ${text.includes('\n') ? `line ${at.line}, ` : ''}column ${at.column}: ${at.reason}` : `: ${(err as Error).message}`;
      throw new UsageError(`DATA is not valid JSON${where}; nothing was published (DATA that starts with { or [ must be JSON; pass --text to send it as a string)`);
    }
  }
  return JSON.parse(plainToData(text));
}

export async function publish(io: CliIo, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...TARGET_FLAGS, 'idempotency-key': { type: 'string' }, text: { type: 'boolean' } }, 'publish', true);
  if (values.help) {
    io.out(PUBLISH_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 2) throw new UsageError('publish takes CHANNEL and DATA (see canal publish --help)');
  const [channel, text] = positionals as [string, string];
  const data = publicationData(text, values.text === true);
  const target = resolveTarget(values, io.env);
  const params: Record<string, unknown> = { channel, data };
  if (typeof values['idempotency-key'] === 'string') params.idempotency_key = values['idempotency-key'];
  const result = (await callApi(target, 'publish', params)) as { offset?: number; epoch?: string };
  io.out(result.offset ? `published to ${channel}: offset ${result.offset}, epoch ${result.epoch ?? ''}` : `published to ${channel} (the channel keeps no history)`);
  return ExitCode.Ok;
}
