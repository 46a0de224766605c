/**
 * JWT connection and subscription tokens, verified with jose, with Centrifugo's claims. HS256,
 * HS384 and HS512 with a shared secret; RS256/384/512 with an RSA public key and ES256, ES384 or
 * ES512 with an EC key on P-256, P-384 or P-521; and the RSA and EC keys of a JWKS endpoint,
 * fetched once and cached. Any other algorithm is refused. Every failure is an AuthError whose
 * message says what was wrong, never a crash; a JWKS endpoint that cannot be reached is a
 * temporary {@link TokenKeysUnavailableError}, since the token itself may be fine.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createRemoteJWKSet, errors, jwtVerify, type CryptoKey, type FlattenedJWSInput, type JWTHeaderParameters, type JWTPayload, type RemoteJWKSet,
} from 'jose';
import type { Logger } from '../log.js';
import { ErrorCode } from '../protocol/codes.js';
import { AuthError, ReplyError } from '../protocol/errors.js';
import {
  payloadField, parseOverride, parseSubscribeOptions, ShapeError, unixSeconds, type SubscribeOptions, type SubscribeOverride,
} from '../protocol/subscribe-options.js';
import type { JsonText } from '../protocol/types.js';
import { withDefined } from '../util/defined.js';

export interface TokenOptions {
  readonly hmacSecret?: string | undefined;
  /** Path of a PEM (SPKI) public key: RSA (RS256/384/512) or EC P-256, P-384, P-521 (ES256, ES384, ES512). */
  readonly publicKeyFile?: string | undefined;
  /** URL of a JSON Web Key Set whose RSA and EC keys verify tokens (by `kid`). */
  readonly jwksUrl?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** The clock that `exp` and `nbf` are checked against, in Unix ms (default Date.now; tests pass a fake one). */
  readonly now?: () => number;
  /** Where a JWKS endpoint's failures are logged. */
  readonly log?: Logger;
}

/** What a valid connection token says. */
export interface ConnectionClaims {
  readonly user: string;
  /** Unix ms; undefined when the connection does not expire (`expire_at` 0, or neither it nor `exp`). */
  readonly expiresAt?: number;
  readonly info?: JsonText;
  /**
   * Channels the server subscribes the connection to, with their options: the `subs` claim, or
   * the `channels` claim (no options) when `subs` is empty, as in Centrifugo.
   */
  readonly subs: ReadonlyMap<string, SubscribeOptions>;
  /** Kept on the connection and sent to the backend with proxy calls; never to other clients. */
  readonly meta?: JsonText;
}

/** What a valid subscription token says. */
export interface SubscriptionClaims {
  readonly user: string;
  readonly channel: string;
  readonly expiresAt?: number;
  readonly info?: JsonText;
  /** Sent to the client in the subscribe result. */
  readonly data?: JsonText;
  readonly override?: SubscribeOverride;
}

/** The public key could not be loaded; the message names the file and the reason. */
export class KeyFileError extends Error {}

/**
 * The JWKS endpoint did not answer (or answered garbage): the token may be valid, so the client
 * is told to try again (temporary 100), not that its token is bad. `message` is for logs.
 */
export class TokenKeysUnavailableError extends ReplyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Internal, message, { temporary: true, wireMessage: 'internal server error: the token keys could not be fetched, try again' });
    this.name = 'TokenKeysUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512'];
const EC_ALGORITHMS: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

/** How long a fetched key set is used before it is fetched again (Centrifugo's 1 h). */
const JWKS_CACHE_MS = 3_600_000;
/** A token whose `kid` is not in the cached set fetches it again at most this often. */
const JWKS_COOLDOWN_MS = 30_000;
/** How long a JWKS fetch may take (Centrifugo's 1 s). */
const JWKS_TIMEOUT_MS = 1000;

/** Reads a PEM public key and the algorithms it verifies. Throws KeyFileError. */
export function loadPublicKey(path: string): { key: KeyObject; algorithms: string[] } {
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
  if (key.asymmetricKeyType === 'rsa') return { key, algorithms: RSA_ALGORITHMS };
  const es = key.asymmetricKeyType === 'ec' ? EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (es) return { key, algorithms: [es] };
  const what = key.asymmetricKeyType === 'ec' ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve}` : `a ${key.asymmetricKeyType} key`;
  throw new KeyFileError(`${path} holds ${what}; use RSA (RS256/384/512) or EC P-256, P-384 or P-521 (ES256, ES384, ES512)`);
}

type KeyResolver = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<KeyObject | Uint8Array | CryptoKey>;

export class TokenVerifier {
  readonly #getKey: KeyResolver | undefined;
  readonly #algorithms: string[];
  readonly #issuer: string | undefined;
  readonly #audience: string | undefined;
  readonly #now: () => number;

  /** Throws KeyFileError when the public key file cannot be used. */
  constructor(options: TokenOptions) {
    const secret = options.hmacSecret ? new TextEncoder().encode(options.hmacSecret) : undefined;
    const pub = options.publicKeyFile ? loadPublicKey(options.publicKeyFile) : undefined;
    const jwks = options.jwksUrl ? remoteKeys(options.jwksUrl, options.log) : undefined;
    this.#algorithms = [
      ...(secret ? HMAC_ALGORITHMS : []), ...(pub ? pub.algorithms : []), ...(jwks ? [...RSA_ALGORITHMS, ...Object.values(EC_ALGORITHMS)] : []),
    ];
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#now = options.now ?? Date.now;
    if (secret || pub || jwks) {
      // jose checks the header's alg against #algorithms first, so each key only meets its own kind.
      this.#getKey = async (header, token) => {
        if (header.alg?.startsWith('HS')) return secret!;
        if (pub && pub.algorithms.includes(header.alg ?? '')) return pub.key;
        if (!jwks) throw new AuthError('invalid', 'algorithm not allowed');
        return jwks(header, token);
      };
    }
  }

  /** Whether any key is configured; without one every token is refused. */
  get enabled(): boolean {
    return this.#getKey !== undefined;
  }

  /** Verifies a connection token. Throws AuthError (`expired` or `invalid`) or TokenKeysUnavailableError. */
  async verifyConnection(token: string): Promise<ConnectionClaims> {
    const payload = await this.#verify(token, 'connection');
    if (payload.channel !== undefined && payload.channel !== '') {
      throw new AuthError('invalid', 'invalid token: this is a subscription token (it has a "channel" claim); connect needs a connection token');
    }
    try {
      return withDefined<ConnectionClaims>({ user: subject(payload), subs: serverSubscriptions(payload) }, {
        expiresAt: expiry(payload),
        info: payloadField(payload, 'info', 'b64info', ''),
        meta: payload.meta === undefined || payload.meta === null ? undefined : JSON.stringify(payload.meta),
      });
    } catch (err) {
      if (err instanceof ShapeError) throw new AuthError('invalid', `invalid token: ${err.message}`);
      throw err;
    }
  }

  /**
   * Verifies a subscription token for `channel`, used by connection `client`. Throws AuthError
   * (`expired` or `invalid`) or TokenKeysUnavailableError.
   */
  async verifySubscription(token: string, channel: string, client?: string): Promise<SubscriptionClaims> {
    const payload = await this.#verify(token, 'subscription');
    if (payload.channel !== channel) {
      throw new AuthError('invalid', `invalid subscription token: it is for channel ${JSON.stringify(payload.channel)}, not ${JSON.stringify(channel)}`);
    }
    if (payload.client !== undefined && payload.client !== '' && client !== undefined && payload.client !== client) {
      throw new AuthError('invalid', 'invalid subscription token: it is for another connection (its "client" claim)');
    }
    try {
      return withDefined<SubscriptionClaims>({ user: subject(payload), channel }, {
        expiresAt: expiry(payload),
        info: payloadField(payload, 'info', 'b64info', ''),
        data: payloadField(payload, 'data', 'b64data', ''),
        override: parseOverride(payload.override, ''),
      });
    } catch (err) {
      if (err instanceof ShapeError) throw new AuthError('invalid', `invalid subscription token: ${err.message}`);
      throw err;
    }
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

/**
 * The keys of a JWKS endpoint: fetched on first use, kept JWKS_CACHE_MS, fetched again sooner
 * only for a `kid` not in the set (at most every JWKS_COOLDOWN_MS, which also keeps tokens with
 * made-up kids from hammering the endpoint). A failed fetch is logged and is temporary.
 */
function remoteKeys(url: string, log: Logger | undefined): KeyResolver {
  const set: RemoteJWKSet = createRemoteJWKSet(new URL(url), { cacheMaxAge: JWKS_CACHE_MS, cooldownDuration: JWKS_COOLDOWN_MS, timeoutDuration: JWKS_TIMEOUT_MS });
  return async (header, token) => {
    try {
      return await set(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      const cause = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      log?.warn({ jwks: url, err: cause }, 'JWKS endpoint failed; the tokens it verifies get a temporary error (100) until it answers');
      throw new TokenKeysUnavailableError(`JWKS endpoint ${url} failed: ${cause}`, { cause: err });
    }
  };
}

function subject(payload: JWTPayload): string {
  if (typeof payload.sub !== 'string') throw new AuthError('invalid', 'invalid token: the "sub" claim (the user id) is missing');
  return payload.sub;
}

/**
 * When the connection (or subscription) expires, in Unix ms: `expire_at` when the claim is
 * present (0 or less: never), else `exp`. Centrifugo's rule: a backend may issue short-lived
 * tokens for long-lived connections.
 */
function expiry(payload: JWTPayload): number | undefined {
  if (payload.expire_at !== undefined && payload.expire_at !== null) {
    const at = unixSeconds(payload.expire_at, 'expire_at');
    return at === undefined ? undefined : at * 1000;
  }
  return payload.exp === undefined ? undefined : payload.exp * 1000;
}

/** The `subs` claim (channel -> options), or else the `channels` claim, as a map. */
function serverSubscriptions(payload: JWTPayload): Map<string, SubscribeOptions> {
  const out = new Map<string, SubscribeOptions>();
  const subs = payload.subs;
  if (subs !== undefined && subs !== null) {
    if (typeof subs !== 'object' || Array.isArray(subs)) throw new ShapeError('the "subs" claim must be an object of channel -> options');
    for (const [channel, options] of Object.entries(subs)) out.set(channel, parseSubscribeOptions(options, `subs[${JSON.stringify(channel)}].`));
    if (out.size > 0) return out;
  }
  const channels = payload.channels;
  if (channels !== undefined && channels !== null) {
    if (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string')) {
      throw new ShapeError('the "channels" claim must be a list of channel names');
    }
    for (const channel of channels) out.set(channel, {});
  }
  return out;
}

function describe(err: unknown, what: string): AuthError | TokenKeysUnavailableError {
  if (err instanceof TokenKeysUnavailableError) return err;
  if (err instanceof AuthError) return new AuthError(err.kind, `invalid ${what} token: ${err.message}`);
  if (err instanceof errors.JWTExpired) return new AuthError('expired', `${what} token expired`);
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('invalid', `invalid ${what} token: algorithm not allowed`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('invalid', `invalid ${what} token: bad signature`);
  if (err instanceof errors.JWTClaimValidationFailed) return new AuthError('invalid', `invalid ${what} token: ${err.message}`);
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError('invalid', `invalid ${what} token: no key of the JWKS endpoint matches its "kid" and "alg"`);
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError('invalid', `invalid ${what} token: several keys of the JWKS endpoint match it; give it a "kid"`);
  return new AuthError('invalid', `invalid ${what} token: not a valid JWT`);
}
