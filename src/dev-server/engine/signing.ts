import { createHash, createHmac, randomBytes } from "node:crypto";

const HEADER_SEGMENT = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url");

/** Claims of a delivery signature, in the order QStash writes them (wire spec 5.2). */
export interface SignatureClaims {
  sub: string;
  /** Issue time, unix seconds. */
  iat: number;
  jti?: string;
  body: Uint8Array | string;
}

/** base64url SHA-256 with `=` padding, as Go's `URLEncoding` writes the `body` claim. */
export function bodyHash(body: Uint8Array | string): string {
  const digest = createHash("sha256").update(body).digest("base64");
  return digest.replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * A compact HS256 JWT the official `Receiver` accepts: `iss=Upstash`, `sub` = delivery URL,
 * `exp = iat + 300`, `nbf = 0` (QStash's own choice, so receivers with a skewed clock still
 * verify). The key is the UTF-8 of the `sig_…` string itself, not a decoded secret.
 */
export function signDelivery(key: string, claims: SignatureClaims): string {
  const payload = JSON.stringify({
    iss: "Upstash",
    sub: claims.sub,
    exp: claims.iat + 300,
    nbf: 0,
    iat: claims.iat,
    jti: claims.jti ?? `jwt_${randomId(16)}`,
    body: bodyHash(claims.body),
  });
  return signRaw(key, payload);
}

/** Signs an already serialised payload; exposed so the spec's test vector can be checked byte for byte. */
export function signRaw(key: string, payloadJson: string): string {
  const input = `${HEADER_SEGMENT}.${Buffer.from(payloadJson).toString("base64url")}`;
  const sig = createHmac("sha256", key).update(input).digest("base64url");
  return `${input}.${sig}`;
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

// One randomBytes call per 4 KiB of ids: a call per message id and per signature showed up as
// several percent of the delivery path.
let pool = Buffer.alloc(0);
let poolPos = 0;

/** A random base58 string, the alphabet QStash uses in its ids and keys. */
export function randomId(length: number): string {
  if (poolPos + length > pool.length) {
    pool = randomBytes(4096);
    poolPos = 0;
  }
  let out = "";
  for (let i = 0; i < length; i++) out += BASE58[pool[poolPos++]! % 58];
  return out;
}

/** A fresh signing key in QStash's `sig_` form. */
export function newSigningKey(): string {
  return `sig_${randomId(28)}`;
}
