/** Reading a JSON configuration file, with errors that name the file and what is wrong. */
import { readFileSync } from 'node:fs';
import { UsageError } from './io.js';

/** Reads and parses the JSON file at `path`; throws {@link UsageError} saying why it cannot. */
export function readConfigFile(path: string): { path: string; data: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new UsageError(`cannot read config file ${path}: ${why} (check --config)`);
  }
  try {
    return { path, data: JSON.parse(text) };
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}
