/** `canal info`: what the server API says about the node(s). */
import { parse } from './args.js';
import { ExitCode, UsageError, type CliIo } from './io.js';
import { callApi, resolveTarget, TARGET_FLAGS, TARGET_HELP } from './target.js';

export const INFO_HELP = [
  'Usage: canal info [options]',
  '',
  'Prints each node\'s name, version, clients, users, channels and uptime',
  '(POST /api/info).',
  '',
  'Options:',
  ...TARGET_HELP,
  '  --json           print the API result as JSON',
  '  -h, --help       show this help',
  '',
  'Exit codes: 0 printed; 1 bad arguments, server unreachable, or refused.',
].join('\n');

interface NodeInfo {
  uid: string; name: string; version: string; num_clients: number; num_users: number; num_channels: number; num_subs?: number; uptime: number;
}

export async function info(io: CliIo, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...TARGET_FLAGS, json: { type: 'boolean' } }, 'info', true);
  if (values.help) {
    io.out(INFO_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length > 0) throw new UsageError('info takes no arguments (see canal info --help)');
  const result = (await callApi(resolveTarget(values, io.env), 'info', {})) as { nodes: NodeInfo[] };
  if (values.json) {
    io.out(JSON.stringify(result, null, 2));
    return ExitCode.Ok;
  }
  for (const n of result.nodes) {
    io.out(`${n.name} (canal ${n.version}, up ${n.uptime} s): ${n.num_clients} clients, ${n.num_users} users, ${n.num_channels} channels, ${n.num_subs ?? 0} subscriptions — node ${n.uid}`);
  }
  return ExitCode.Ok;
}
