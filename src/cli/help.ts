/** Laying out --help text for an 80-column terminal. */

/** The width every line of --help fits in. */
export const HELP_WIDTH = 80;

/**
 * Splits `text` into lines of at most `width` characters at spaces, each starting with
 * `indent`. A word longer than a line (a long URL) gets a line of its own.
 */
export function wrapText(text: string, indent: string, width = HELP_WIDTH): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** One option of a --help list: the flag as typed, what it does, and an optional note. */
export interface HelpOption {
  readonly flag: string;
  readonly doc: string;
  /** Shown on a line of its own after the doc, e.g. `(default 8765; env CANAL_PORT)`. */
  readonly note?: string;
}

/** Each option as its flag on one line, then its doc (and note) wrapped and indented below. */
export function formatOptions(options: readonly HelpOption[], width = HELP_WIDTH): string[] {
  const indent = ' '.repeat(6);
  return options.flatMap((o) => [
    `  ${o.flag}`,
    ...wrapText(o.doc, indent, width),
    ...(o.note === undefined ? [] : wrapText(o.note, indent, width)),
  ]);
}
