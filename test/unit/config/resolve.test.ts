import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../../src/config/resolve.js';
import { defaults } from '../../../src/config/schema.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('resolveConfig()', () => {
  it('returns the defaults when given nothing', () => {
    const c = resolveConfig({});
    assert.deepEqual(c, defaults());
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8765);
    assert.equal(c.max_message_bytes, 1024 * 1024);
    assert.equal(c.ping_interval, 25_000);
  });

  it('ranks file < environment < flags', () => {
    const c = resolveConfig({
      file: { path: 'canal.json', data: { port: 1000, host: '0.0.0.0', log_level: 'warn' } },
      env: { CANAL_PORT: '2000', CANAL_LOG_LEVEL: 'debug', HOME: '/root' },
      flags: { port: '3000' },
    });
    assert.equal(c.port, 3000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.log_level, 'debug');
  });

  it('reports every wrong field at once, naming its source and what is allowed', () => {
    const lines = problemsOf(() =>
      resolveConfig({
        file: { path: 'canal.json', data: { port: 'x', ping_interval: '5 years' } },
        env: { CANAL_HOST: 'a b' },
        flags: { max_message_bytes: '0' },
      }),
    );
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^port: must be an integer from 0 to 65535, got "x" \(in canal\.json\)$/);
    assert.match(lines[1]!, /^ping_interval: must be a duration .* got "5 years" \(in canal\.json\)$/);
    assert.match(lines[2]!, /^host: must be a host name or IP address .* got "a b" \(from environment variable CANAL_HOST\)$/);
    assert.match(lines[3]!, /^max_message_bytes: must be a byte count .* got "0" \(from flag --max-message-bytes\)$/);
  });

  it('rejects unknown keys in the file, suggesting the closest option', () => {
    const [line] = problemsOf(() => resolveConfig({ file: { path: 'c.json', data: { prot: 1 } } }));
    assert.equal(line, 'prot: is not an option; did you mean "port"? (in c.json)');
  });

  it('rejects unknown CANAL_* variables and ignores other variables', () => {
    const [line] = problemsOf(() => resolveConfig({ env: { CANAL_PROT: '1', PATH: '/bin' } }));
    assert.equal(line, 'CANAL_PROT: is not a canal setting; did you mean "CANAL_PORT"? (from environment variable CANAL_PROT)');
  });

  it('rejects a file that is not a JSON object', () => {
    const [line] = problemsOf(() => resolveConfig({ file: { path: 'c.json', data: [1] } }));
    assert.match(line!, /must be a JSON object, got \[1\]/);
  });

  it('checks embedding options like flags', () => {
    const [line] = problemsOf(() => resolveConfig({ options: { port: 70000 } }));
    assert.match(line!, /port: must be an integer from 0 to 65535, got 70000 \(from the options passed to new Canal\(\)\)/);
  });

  it('takes workers as a number or "auto", from a file, CANAL_WORKERS or --workers', () => {
    assert.equal(resolveConfig({}).workers, 1);
    assert.equal(resolveConfig({ file: { path: 'c.json', data: { engine: 'redis', workers: 4 } } }).workers, 4);
    assert.equal(resolveConfig({ env: { CANAL_WORKERS: 'auto', CANAL_ENGINE: 'redis' } }).workers, 'auto');
    assert.equal(resolveConfig({ flags: { workers: '2', engine: 'redis' } }).workers, 2);
  });

  it('refuses more than one worker, or "auto", with the memory engine, saying that state would split between processes', () => {
    for (const workers of ['2', 'auto']) {
      const [line] = problemsOf(() => resolveConfig({ flags: { workers } }));
      assert.equal(line, `workers: is ${JSON.stringify(workers === 'auto' ? 'auto' : 2)} but engine is "memory": each worker process would keep its own channels, history and presence, ` +
        'so clients on different workers would not see each other\'s publications; use --engine redis (every worker a node of one Redis) or --workers 1');
    }
    assert.equal(resolveConfig({ flags: { workers: '1' } }).workers, 1);
  });
});
