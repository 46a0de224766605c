/**
 * Copies the entries of `extra` whose value is not undefined onto `target`, so optional fields
 * are absent rather than present-and-undefined (exactOptionalPropertyTypes, and smaller JSON).
 */
export function withDefined<T extends object>(target: T, extra: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  return target;
}
