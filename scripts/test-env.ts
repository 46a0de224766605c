/**
 * Makes sure of what the test suite needs before it runs, so `npm test` works on a fresh
 * machine: Debian's chromium (browser tests), python3-websockets for /usr/bin/python3 (interop
 * tests), a Redis server on 127.0.0.1:6379 (Redis engine tests), redis-cli (which makes the
 * tests' private Redis Clusters), redis-sentinel (the Sentinel tests start their own), and the
 * `bun` devDependency's binary (the Bun pass). What is missing is installed
 * or started when this process can (root on Debian); otherwise it fails naming what to install.
 * No test skips for want of a service.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';

export const CHROMIUM = '/usr/bin/chromium';
export const PYTHON = '/usr/bin/python3';
export const REDIS = { host: '127.0.0.1', port: 6379 } as const;

function log(line: string): void {
  process.stderr.write(`test-env: ${line}\n`);
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function pythonHasWebsockets(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;
}

/** Resolves true when something answers PING with PONG on the Redis port within 2 s. */
export function redisAnswers(host: string = REDIS.host, port: number = REDIS.port): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let buffer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      buffer += d.toString();
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
  });
}

function aptInstall(packages: string[]): void {
  log(`installing Debian packages: ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

async function startRedis(): Promise<void> {
  log('starting redis-server on 127.0.0.1:6379');
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(REDIS.port), '--save', '', '--appendonly', 'no'], { stdio: 'inherit' });
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Checks, installs or starts everything; throws an Error naming what is still missing. */
/** The Bun binary of the `bun` devDependency, which runs canal in the Bun pass and the runtime tests. */
export const BUN = 'node_modules/.bin/bun';

export async function ensureTestEnvironment(): Promise<void> {
  if (spawnSync(BUN, ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${BUN} does not run: the bun devDependency ships it; run npm install (npm ci) in this checkout and npm test again.`);
  }
  const canInstall = isRoot() && hasCommand('apt-get');
  const packages: string[] = [];
  if (!existsSync(CHROMIUM)) packages.push('chromium');
  if (!pythonHasWebsockets()) packages.push('python3-websockets');
  const redisUp = await redisAnswers();
  if (!redisUp && !hasCommand('redis-server')) packages.push('redis-server');
  // The Redis Cluster and Sentinel tests start private servers, and need these programs even
  // when a Redis already answers on 6379 (redis-cli comes with redis-tools).
  if (!hasCommand('redis-server') && !packages.includes('redis-server')) packages.push('redis-server');
  if (!hasCommand('redis-cli')) packages.push('redis-tools');
  if (!hasCommand('redis-sentinel')) packages.push('redis-sentinel');

  if (packages.length > 0) {
    if (!canInstall) {
      throw new Error(
        `missing test prerequisites: ${packages.join(', ')}.\n` +
          `Install them (Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')}) and run npm test again.`,
      );
    }
    aptInstall(packages);
  }
  if (!redisUp) {
    if (hasCommand('redis-server')) await startRedis();
    if (!(await redisAnswers())) {
      throw new Error(
        'no Redis server answers on 127.0.0.1:6379 and none could be started here.\n' +
          'Start one (for example: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "") and run npm test again.',
      );
    }
  }
  const stillMissing = [
    existsSync(CHROMIUM) ? '' : `chromium (${CHROMIUM})`,
    pythonHasWebsockets() ? '' : `python3-websockets (for ${PYTHON})`,
    hasCommand('redis-sentinel') ? '' : 'redis-sentinel (Debian package redis-sentinel)',
    hasCommand('redis-cli') ? '' : 'redis-cli (Debian package redis-tools)',
  ].filter(Boolean);
  if (stillMissing.length > 0) throw new Error(`still missing after install: ${stillMissing.join(', ')}`);
}
