/**
 * Token expiry as the protocol counts it, pure: the `ttl` a client is told is whole seconds
 * rounded up, and the client refreshes exactly then, so the server counts its deadline from
 * that ttl, not from the token's own expiry, and waits `client_expired_close_delay` past it.
 */

/** The ttl to send: whole seconds until `expiresAt`, rounded up, at least 1. */
export function ttlSeconds(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil((expiresAt - now) / 1000));
}

/** When a refresh is due for a token that expires at `expiresAt` (Unix ms): `now` plus the ttl sent. */
export function refreshDeadline(expiresAt: number | undefined, now: number): number | undefined {
  return expiresAt === undefined ? undefined : now + ttlSeconds(expiresAt, now) * 1000;
}

/** Whether a deadline has passed by more than `grace` at `now`. */
export function overdue(deadline: number | undefined, grace: number, now: number): boolean {
  return deadline !== undefined && deadline + grace <= now;
}
