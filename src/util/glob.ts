/**
 * Glob matching for channel patterns: `*` matches any run of characters, `?` one character.
 * Greedy with one remembered star, so the time is at most pattern length × name length (no
 * regular expression is built from the pattern, so no exponential backtracking). Characters are
 * compared as Unicode code points.
 */
export function globMatcher(pattern: string): (s: string) => boolean {
  const p = [...pattern];
  return (name: string): boolean => {
    const s = [...name];
    let i = 0;
    let j = 0;
    let star = -1;
    let mark = 0;
    while (i < s.length) {
      if (j < p.length && (p[j] === '?' || (p[j] !== '*' && p[j] === s[i]))) {
        i++;
        j++;
      } else if (j < p.length && p[j] === '*') {
        star = j++;
        mark = i;
      } else if (star !== -1) {
        j = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (j < p.length && p[j] === '*') j++;
    return j === p.length;
  };
}
