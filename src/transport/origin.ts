/**
 * Browser origin checks at upgrade (cross-site WebSocket hijacking: RFC 6455 §10.2). Patterns
 * are origins where `*` matches any run of characters (`https://*.example.com`,
 * `http://localhost:*`) or `null` (pages opened from disk). No patterns: any origin.
 */

/** A function telling whether an Origin header value is allowed by `patterns`. */
export function originChecker(patterns: readonly string[]): (origin: string | undefined) => boolean {
  if (patterns.length === 0) return () => true;
  const res = patterns.map((p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&')).join('.*')}$`, 'i'));
  // Requests without an Origin header do not come from a browser page; tokens guard them.
  return (origin) => origin === undefined || res.some((re) => re.test(origin));
}
