/**
 * README.md and docs/*.md point only at things that exist: every relative link reaches a file
 * (and, into a Markdown file, a heading), every npm script they tell you to run is in
 * package.json, every `canal <command>` is a subcommand of src/cli/main.ts, and every CANAL_*
 * variable is one canal reads. Commands are looked for where a reader would copy them from:
 * inline code and ```sh / ```bash / ```console blocks (output belongs in ```text blocks, which
 * are not read for commands); links and CANAL_* names are looked for everywhere but code.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { envName, OPTIONS, type OptionKey } from '../../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The documents checked, relative to the repository root. */
function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** Environment variables the CLI reads itself (src/cli/serve.ts, src/cli/target.ts), besides the options'. */
const CLI_VARIABLES = ['CANAL_CONFIG', 'CANAL_URL', 'CANAL_API_KEY', 'CANAL_TOKEN_HMAC_SECRET'];

/** npm's own commands; `npm <name>` for any other name runs a script of that name. */
const NPM_COMMANDS = new Set([
  'access', 'audit', 'bin', 'bugs', 'cache', 'ci', 'config', 'dedupe', 'deprecate', 'diff', 'dist-tag', 'docs', 'doctor',
  'exec', 'explain', 'explore', 'find-dupes', 'fund', 'help', 'i', 'init', 'install', 'install-ci-test', 'install-test',
  'link', 'login', 'logout', 'ls', 'outdated', 'owner', 'pack', 'ping', 'pkg', 'prefix', 'profile', 'prune', 'publish',
  'query', 'rebuild', 'repo', 'root', 'search', 'shrinkwrap', 'star', 'stars', 'team', 'token', 'uninstall', 'unpublish',
  'unstar', 'update', 'version', 'view', 'whoami',
]);

/** npm's shortcuts that run the script of the same name (`npm test` runs scripts.test). */
const NPM_SCRIPT_SHORTCUTS = new Set(['start', 'stop', 'test', 'restart']);

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

interface Scanned {
  /** The text outside code, with inline code blanked out. */
  readonly prose: string;
  /** Lines of shell code blocks. */
  readonly shell: string[];
  /** The contents of inline code spans. */
  readonly spans: string[];
  /** Heading texts, in order, outside code blocks. */
  readonly headings: string[];
}

/** Splits a Markdown document into prose, shell code, inline code and headings. */
function scan(markdown: string): Scanned {
  const prose: string[] = [];
  const shell: string[] = [];
  const spans: string[] = [];
  const headings: string[] = [];
  let fence: { readonly marker: string; readonly shell: boolean } | undefined;
  for (const line of markdown.split('\n')) {
    const trimmed = line.trim();
    if (fence) {
      const closes = trimmed.length >= fence.marker.length && trimmed === fence.marker[0]!.repeat(trimmed.length);
      if (closes) fence = undefined;
      else if (fence.shell) shell.push(line);
      continue;
    }
    const open = /^(`{3,}|~{3,})\s*([\w+-]*)/.exec(trimmed);
    if (open) {
      fence = { marker: open[1]!, shell: SHELL_LANGUAGES.has(open[2]!.toLowerCase()) };
      continue;
    }
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) headings.push(heading[1]!);
    prose.push(line.replace(/(`+)(.+?)\1/g, (_all, _ticks, code: string) => {
      spans.push(code.trim());
      return ' ';
    }));
  }
  return { prose: prose.join('\n'), shell, spans, headings };
}

/** The anchor GitHub gives a heading: its text, lower case, punctuation dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
    .replace(/[`*]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a document, with GitHub's -1, -2 suffixes for repeated headings. */
function anchors(headings: readonly string[]): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const h of headings) {
    const base = slug(h);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Link targets in prose: inline links and images, and reference definitions. */
function linkTargets(prose: string): string[] {
  const out: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^()\s<>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) out.push(m[1]!);
  for (const m of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)) out.push(m[1]!);
  return out;
}

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** Shell lines without their comments (`# ...` at the start or after a space). */
function shellCode(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/(^|\s)#.*$/, '$1'));
}

/** The subcommands of `canal`: the keys of COMMANDS in src/cli/main.ts (read as text, not run). */
function canalCommands(): Set<string> {
  const source = read('src/cli/main.ts');
  const start = source.indexOf('const COMMANDS');
  assert.ok(start !== -1, 'src/cli/main.ts has no COMMANDS table');
  const body = source.slice(start, source.indexOf('\n};', start));
  const names = [...body.matchAll(/^\s+([a-z][\w-]*):\s*\{/gm)].map((m) => m[1]!);
  assert.ok(names.includes('serve'), `could not read the commands of src/cli/main.ts (found: ${names.join(', ')})`);
  return new Set([...names, 'help']);
}

describe('README.md and docs/*.md', () => {
  const files = documents();
  const scanned = new Map(files.map((f) => [f, scan(read(f))]));
  const anchorsOf = (path: string): Set<string> => anchors((scanned.get(path) ?? scan(read(path))).headings);

  it('link only to files that exist, and to headings that exist in Markdown files', () => {
    const problems: string[] = [];
    for (const [file, doc] of scanned) {
      for (const target of linkTargets(doc.prose)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:, ws: ...
        const hash = target.indexOf('#');
        const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
        const fragment = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
        const absolute = pathPart === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), pathPart);
        const path = relative(ROOT, absolute).split('\\').join('/');
        if (path.startsWith('..')) {
          problems.push(`${file}: ${target} points outside the repository`);
          continue;
        }
        if (!existsSync(absolute)) {
          problems.push(`${file}: ${target} -> ${path} does not exist`);
          continue;
        }
        if (fragment !== undefined && path.endsWith('.md') && statSync(absolute).isFile() && !anchorsOf(path).has(fragment)) {
          problems.push(`${file}: ${target} -> ${path} has no heading with the anchor #${fragment}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });


  it('name only npm scripts that package.json has', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts?: Record<string, string> }).scripts ?? {};
    const problems: string[] = [];
    for (const [file, doc] of scanned) {
      for (const code of [...doc.shell, ...doc.spans]) {
        for (const m of code.matchAll(/(?:^|[\s;&|(`])npm\s+(run(?:-script)?\s+)?([a-z][\w:.-]*)/g)) {
          const [, run, name] = m as unknown as [string, string | undefined, string];
          if (run !== undefined || NPM_SCRIPT_SHORTCUTS.has(name)) {
            if (!Object.hasOwn(scripts, name)) problems.push(`${file}: "npm ${run ?? ''}${name}" but package.json has no script "${name}"`);
          } else if (!NPM_COMMANDS.has(name)) {
            problems.push(`${file}: "npm ${name}" is neither an npm command nor a script (did you mean "npm run ${name}"?)`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('name only canal subcommands that src/cli/main.ts has', () => {
    const commands = canalCommands();
    const problems: string[] = [];
    for (const [file, doc] of scanned) {
      const found: string[] = [];
      for (const line of shellCode(doc.shell)) {
        for (const m of line.matchAll(/(?:^|[\s;&|(])(?:npx\s+)?canal\s+([a-z][\w-]*)/g)) found.push(m[1]!);
      }
      for (const span of doc.spans) {
        const m = /^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:npx\s+)?canal\s+([a-z][\w-]*)/.exec(span);
        if (m) found.push(m[1]!);
      }
      for (const name of found) {
        if (!commands.has(name)) problems.push(`${file}: "canal ${name}" is not a command (commands: ${[...commands].join(', ')})`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('name only CANAL_* variables that canal reads', () => {
    const known = new Set<string>(CLI_VARIABLES);
    for (const key of Object.keys(OPTIONS) as OptionKey[]) {
      const name = envName(key);
      if (name) known.add(name);
    }
    const problems: string[] = [];
    for (const file of files) {
      for (const m of read(file).matchAll(/\bCANAL_[A-Z0-9_]+\b/g)) {
        if (!known.has(m[0])) problems.push(`${file}: ${m[0]} is neither an option's variable nor one the CLI reads`);
      }
    }
    assert.deepEqual([...new Set(problems)], []);
  });

  it('allows only CLI variables that the CLI really reads', () => {
    const cli = readdirSync(join(ROOT, 'src/cli')).filter((f) => f.endsWith('.ts')).map((f) => read(`src/cli/${f}`)).join('\n');
    for (const name of CLI_VARIABLES) assert.ok(cli.includes(name), `src/cli/ never mentions ${name}`);
  });
});

describe('the docs link checker', () => {
  it('makes GitHub anchors: punctuation dropped, spaces as dashes, repeats numbered', () => {
    assert.deepEqual(
      [...anchors(['Plain clients on /raw/&lt;channel&gt;', 'Differences from DESIGN.md', 'presence and presence_stats', 'subscribe', 'subscribe', 'Recovery, step by step'])],
      ['plain-clients-on-rawchannel', 'differences-from-designmd', 'presence-and-presence_stats', 'subscribe', 'subscribe-1', 'recovery-step-by-step'],
    );
  });

  it('reads links from prose but not from code', () => {
    const doc = scan('See [a](a.md) and `[b](b.md)`.\n\n```sh\n[c](c.md)\nnpx canal serve\n```\n[d]: d.md#x\n');
    assert.deepEqual(linkTargets(doc.prose), ['a.md', 'd.md#x']);
    assert.deepEqual(doc.shell, ['[c](c.md)', 'npx canal serve']);
    assert.deepEqual(doc.spans, ['[b](b.md)']);
  });
});
