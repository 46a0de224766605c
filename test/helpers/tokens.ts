/**
 * JWTs for tests, minted with jose: HS256 (and HS512, to be refused) with a shared secret,
 * RS256 and ES256 with a fresh key pair whose public half is written to a temporary PEM file
 * (removed after the test file) for `token_public_key`. Plus the tokens no issuer would sign:
 * `alg: none` and strings that are not JWTs at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { base64url, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/** A secret long enough for `token_hmac_secret` (at least 32 characters). */
export const HMAC_SECRET = 'canal-test-secret-0123456789-abcdefghij';

/** The claims canal reads: `sub` (user), `exp`, `info`, `channels` (connection), `channel` (subscription). */
export interface TokenClaims extends JWTPayload {
  readonly info?: unknown;
  readonly channels?: readonly string[];
  readonly channel?: string;
}

/** How to sign: an algorithm and its key. */
export interface SigningKey {
  readonly alg: 'HS256' | 'HS512' | 'RS256' | 'ES256';
  readonly key: CryptoKey | Uint8Array;
}

/** An asymmetric signing key and the PEM (SPKI) file of its public key. */
export interface KeyPair extends SigningKey {
  readonly alg: 'RS256' | 'ES256';
  readonly publicKeyFile: string;
  readonly publicKeyPem: string;
}

/** An HMAC key from `secret` (default {@link HMAC_SECRET}). */
export function hmacKey(secret: string = HMAC_SECRET, alg: 'HS256' | 'HS512' = 'HS256'): SigningKey {
  return { alg, key: new TextEncoder().encode(secret) };
}

/** A fresh RSA (RS256) or EC P-256 (ES256) key pair; the public key is written to a temp PEM file. */
export async function createKeyPair(alg: 'RS256' | 'ES256'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicKeyPem = await exportSPKI(publicKey);
  const dir = mkdtempSync(join(tmpdir(), 'canal-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const publicKeyFile = join(dir, `${alg.toLowerCase()}.pem`);
  writeFileSync(publicKeyFile, publicKeyPem);
  return { alg, key: privateKey, publicKeyFile, publicKeyPem };
}

/** Unix time in seconds, `offset` seconds from now. */
export function secondsFromNow(offset: number): number {
  return Math.floor(Date.now() / 1000) + offset;
}

/** Signs `claims` (exactly as given: set `exp`, `iss`, `aud` yourself) with `key`. */
export function mintToken(key: SigningKey, claims: TokenClaims): Promise<string> {
  return new SignJWT({ ...claims } as JWTPayload).setProtectedHeader({ alg: key.alg, typ: 'JWT' }).sign(key.key);
}

/** An unsigned token (`alg: none`, empty signature) carrying `claims`. */
export function unsignedToken(claims: TokenClaims): string {
  const part = (value: unknown): string => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
