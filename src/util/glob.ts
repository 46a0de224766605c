/**
 * Glob patterns for channel names (the server API's `channels` `pattern`): `*` matches any run
 * of characters, `?` exactly one, anything else itself. Matching takes time linear in the name
 * times the pattern at worst, never exponential: no regular expression is built from a pattern
 * a caller sent (issue 13: `*a*a*a*a*b` against a 255-character name froze the event loop for
 * 56 s in a backtracking regular expression).
 */

/** The longest pattern accepted; a longer one is a bad request. */
export const MAX_GLOB_LENGTH = 1024;

/** Whether `segment` (which may hold `?`) matches `s` at `at`; both are arrays of code points. */
function segmentAt(s: readonly string[], at: number, segment: readonly string[]): boolean {
  if (at < 0 || at + segment.length > s.length) return false;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c !== '?' && c !== s[at + i]) return false;
  }
  return true;
}

/** The first index from `from` where `segment` matches and ends by `end`, or -1. */
function findSegment(s: readonly string[], segment: readonly string[], from: number, end: number): number {
  for (let at = from; at + segment.length <= end; at++) if (segmentAt(s, at, segment)) return at;
  return -1;
}

/**
 * A matcher for `pattern`. The parts between stars are fixed-width, so matching each middle
 * part at its leftmost place after the previous one is always right: a later place could only
 * leave less room for the parts after it.
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  const parts = pattern.split('*').map((p) => Array.from(p));
  if (parts.length === 1) {
    const only = parts[0]!;
    return (name) => {
      const s = Array.from(name);
      return s.length === only.length && segmentAt(s, 0, only);
    };
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const least = first.length + last.length + middle.reduce((n, p) => n + p.length, 0);
  return (name) => {
    const s = Array.from(name);
    if (s.length < least || !segmentAt(s, 0, first) || !segmentAt(s, s.length - last.length, last)) return false;
    const end = s.length - last.length;
    let at = first.length;
    for (const part of middle) {
      const found = findSegment(s, part, at, end);
      if (found < 0) return false;
      at = found + part.length;
    }
    return true;
  };
}
