/**
 * JWTs for tests, minted with jose: HS256/384/512 with a shared secret, RS256/384/512 and
 * ES256/384/512 with a fresh key pair whose public half is written to a temporary PEM file
 * (removed after the test file) for `token_public_key`, or served as a JWKS. Plus the tokens no
 * issuer would sign: `alg: none` and strings that are not JWTs at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** A secret long enough for `token_hmac_secret` (at least 32 characters). */
export const HMAC_SECRET = 'canal-test-secret-0123456789-abcdefghij';

/**
 * The claims canal reads: `sub` (user), `exp`, `info`/`b64info`, `channels`/`subs`, `meta`,
 * `expire_at` (connection), `channel`, `client`, `data`, `override` (subscription).
 */
export interface TokenClaims extends JWTPayload {
  readonly info?: unknown;
  readonly b64info?: string;
  readonly channels?: readonly string[];
  readonly subs?: Readonly<Record<string, unknown>>;
  readonly meta?: unknown;
  readonly expire_at?: number;
  readonly channel?: string;
  readonly client?: string;
}

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';
export type AsymmetricAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

/** How to sign: an algorithm, its key, and (for a JWKS) the key's id. */
export interface SigningKey {
  readonly alg: HmacAlgorithm | AsymmetricAlgorithm;
  readonly key: CryptoKey | Uint8Array;
  readonly kid?: string;
}

/** An asymmetric signing key, the PEM (SPKI) file of its public key, and its public JWK. */
export interface KeyPair extends SigningKey {
  readonly alg: AsymmetricAlgorithm;
  readonly publicKeyFile: string;
  readonly publicKeyPem: string;
  /** The public key as a JWK with `kid` and `alg`, for a JWKS. */
  readonly jwk: JWK;
  readonly kid: string;
}

/** An HMAC key from `secret` (default {@link HMAC_SECRET}). */
export function hmacKey(secret: string = HMAC_SECRET, alg: HmacAlgorithm = 'HS256'): SigningKey {
  return { alg, key: new TextEncoder().encode(secret) };
}

let kids = 0;

/** A fresh RSA or EC (P-256, P-384, P-521) key pair for `alg`; the public key is written to a temp PEM file. */
export async function createKeyPair(alg: AsymmetricAlgorithm): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicKeyPem = await exportSPKI(publicKey);
  const dir = mkdtempSync(join(tmpdir(), 'canal-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const publicKeyFile = join(dir, `${alg.toLowerCase()}.pem`);
  writeFileSync(publicKeyFile, publicKeyPem);
  const kid = `key-${alg.toLowerCase()}-${++kids}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, key: privateKey, publicKeyFile, publicKeyPem, jwk, kid };
}

/** Unix time in seconds, `offset` seconds from now. */
export function secondsFromNow(offset: number): number {
  return Math.floor(Date.now() / 1000) + offset;
}

/** Signs `claims` (exactly as given: set `exp`, `iss`, `aud` yourself) with `key`. */
export function mintToken(key: SigningKey, claims: TokenClaims): Promise<string> {
  return new SignJWT({ ...claims } as JWTPayload)
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(key.kid !== undefined ? { kid: key.kid } : {}) })
    .sign(key.key);
}

/** An unsigned token (`alg: none`, empty signature) carrying `claims`. */
export function unsignedToken(claims: TokenClaims): string {
  const part = (value: unknown): string => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
