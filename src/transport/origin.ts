/**
 * Browser origin checks at upgrade (cross-site WebSocket hijacking: RFC 6455 §10.2). Patterns
 * are origins where `*` matches any run of characters (`https://*.example.com`,
 * `http://localhost:*`) or `null` (pages opened from disk), compared without regard to case.
 * No patterns: any origin. The Origin header is the client's to choose, so patterns are matched
 * by the linear-time glob matcher, never by a regular expression that could backtrack.
 */
import { globMatcher } from '../util/glob.js';

/** A function telling whether an Origin header value is allowed by `patterns`. */
export function originChecker(patterns: readonly string[]): (origin: string | undefined) => boolean {
  if (patterns.length === 0) return () => true;
  const matchers = patterns.map((p) => globMatcher(p.toLowerCase()));
  // Requests without an Origin header do not come from a browser page; tokens guard them.
  return (origin) => {
    if (origin === undefined) return true;
    const o = origin.toLowerCase();
    return matchers.some((matches) => matches(o));
  };
}
