/** Reading a JSON configuration file, with errors that name the file and what is wrong. */
import { readFileSync } from 'node:fs';
import { findJsonSyntaxError } from '../config/json-syntax.js';
import { UsageError } from './io.js';

/**
 * Removes line (//) and block comments outside strings, so config files may explain themselves.
 * Positions in JSON errors stay right because comments become spaces.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
    } else if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      for (; i < stop; i++) out += text[i] === '\n' ? '\n' : ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Reads and parses the JSON file at `path` (comments and a byte order mark allowed); throws
 * {@link UsageError} saying why it cannot, with the line and column of a syntax error.
 */
export function readConfigFile(path: string): { path: string; data: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new UsageError(`cannot read config file ${path}: ${why} (check --config)`);
  }
  // Comments become spaces, so positions in the stripped text are positions in the file.
  const json = stripJsonComments(text.replace(/^\uFEFF/, ''));
  try {
    return { path, data: JSON.parse(json) };
  } catch (err) {
    const at = findJsonSyntaxError(json);
    const why = at ? `line ${at.line}, column ${at.column}: ${at.reason}` : (err as Error).message;
    throw new UsageError(`config file ${path} is not valid JSON: ${why}`);
  }
}

/**
 * The environment as the server's options see it: without CANAL_CONFIG and CANAL_URL, which the
 * CLI reads itself (they are not options, so resolveConfig would call them unknown).
 */
export function optionEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return { ...env, CANAL_CONFIG: undefined, CANAL_URL: undefined };
}
