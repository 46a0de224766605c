/**
 * JWT connection and subscription tokens, verified with jose. HS256 with a shared secret, and
 * RS256 or ES256 with a PEM public key; any other algorithm is refused. Every failure is an
 * AuthError whose message says what was wrong, never a crash.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthError } from '../protocol/errors.js';
import type { RawJson } from '../protocol/types.js';
import { withDefined } from '../util/defined.js';

export interface TokenOptions {
  readonly hmacSecret?: string | undefined;
  /** Path of a PEM (SPKI) public key: RSA (RS256) or EC P-256 (ES256). */
  readonly publicKeyFile?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** The clock that `exp` and `nbf` are checked against, in Unix ms (default Date.now; tests pass a fake one). */
  readonly now?: () => number;
}

/** What a valid connection token says. */
export interface ConnectionClaims {
  readonly user: string;
  /** Unix ms; undefined when the token does not expire. */
  readonly expiresAt?: number;
  readonly info?: RawJson;
  /** Channels the server subscribes the connection to (server-side subscriptions). */
  readonly channels: readonly string[];
}

/** What a valid subscription token says. */
export interface SubscriptionClaims {
  readonly user: string;
  readonly channel: string;
  readonly expiresAt?: number;
  readonly info?: RawJson;
}

/** The public key could not be loaded; the message names the file and the reason. */
export class KeyFileError extends Error {}

/** Reads a PEM public key and the algorithm it is for. Throws KeyFileError. */
export function loadPublicKey(path: string): { key: KeyObject; alg: 'RS256' | 'ES256' } {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new KeyFileError(`${path} is not a PEM public key`);
  }
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256' };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' };
  throw new KeyFileError(`${path} holds a ${key.asymmetricKeyType} key; use RSA (RS256) or EC P-256 (ES256)`);
}

export class TokenVerifier {
  readonly #getKey: JWTVerifyGetKey | undefined;
  readonly #algorithms: string[];
  readonly #issuer: string | undefined;
  readonly #audience: string | undefined;
  readonly #now: () => number;

  /** Throws KeyFileError when the public key file cannot be used. */
  constructor(options: TokenOptions) {
    const secret = options.hmacSecret ? new TextEncoder().encode(options.hmacSecret) : undefined;
    const pub = options.publicKeyFile ? loadPublicKey(options.publicKeyFile) : undefined;
    this.#algorithms = [...(secret ? ['HS256'] : []), ...(pub ? [pub.alg] : [])];
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#now = options.now ?? Date.now;
    if (secret || pub) {
      this.#getKey = (header) => (header.alg === 'HS256' ? secret! : pub!.key) as KeyObject;
    }
  }

  /** Whether any key is configured; without one every token is refused. */
  get enabled(): boolean {
    return this.#getKey !== undefined;
  }

  /** Verifies a connection token. Throws AuthError (`expired` or `invalid`). */
  async verifyConnection(token: string): Promise<ConnectionClaims> {
    const payload = await this.#verify(token, 'connection');
    if (payload.channel !== undefined) {
      throw new AuthError('invalid', 'invalid token: this is a subscription token (it has a "channel" claim); connect needs a connection token');
    }
    const channels = payload.channels;
    if (channels !== undefined && (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string'))) {
      throw new AuthError('invalid', 'invalid token: the "channels" claim must be a list of channel names');
    }
    return withDefined({ user: subject(payload), channels: (channels as string[] | undefined) ?? [] }, {
      expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
      info: payload.info === undefined ? undefined : (JSON.stringify(payload.info) as RawJson),
    });
  }

  /** Verifies a subscription token for `channel`. Throws AuthError (`expired` or `invalid`). */
  async verifySubscription(token: string, channel: string): Promise<SubscriptionClaims> {
    const payload = await this.#verify(token, 'subscription');
    if (payload.channel !== channel) {
      throw new AuthError('invalid', `invalid subscription token: it is for channel ${JSON.stringify(payload.channel)}, not ${JSON.stringify(channel)}`);
    }
    return withDefined({ user: subject(payload), channel }, {
      expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000,
      info: payload.info === undefined ? undefined : (JSON.stringify(payload.info) as RawJson),
    });
  }

  async #verify(token: string, what: 'connection' | 'subscription'): Promise<JWTPayload> {
    if (!this.#getKey) throw new AuthError('invalid', `${what} tokens are not accepted: no token key is configured on the server`);
    try {
      const { payload } = await jwtVerify(token, this.#getKey, {
        algorithms: this.#algorithms,
        currentDate: new Date(this.#now()),
        ...(this.#issuer ? { issuer: this.#issuer } : {}),
        ...(this.#audience ? { audience: this.#audience } : {}),
      });
      return payload;
    } catch (err) {
      throw describe(err, what);
    }
  }
}

function subject(payload: JWTPayload): string {
  if (typeof payload.sub !== 'string') throw new AuthError('invalid', 'invalid token: the "sub" claim (the user id) is missing');
  return payload.sub;
}

function describe(err: unknown, what: string): AuthError {
  if (err instanceof errors.JWTExpired) return new AuthError('expired', `${what} token expired`);
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('invalid', `invalid ${what} token: algorithm not allowed`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('invalid', `invalid ${what} token: bad signature`);
  if (err instanceof errors.JWTClaimValidationFailed) return new AuthError('invalid', `invalid ${what} token: ${err.message}`);
  return new AuthError('invalid', `invalid ${what} token: not a valid JWT`);
}

