import { base64ToBytes, base64ToText, bytesToBase64Url } from "../util/base64.js";
import { andThen, type Maybe } from "./maybe.js";

/**
 * Verification of QStash's `Upstash-Signature` JWT: HS256 (HS384/512 accepted as jose does),
 * issuer `Upstash`, `exp`/`nbf` with a clock tolerance, the SHA-256 of the exact body bytes,
 * and `sub` against the URL the caller expects. Accepts exactly what the official `Receiver`
 * accepts (test/handler/receiver-parity.test.ts holds the two side by side).
 */

/** Why a signature was rejected; the handler answers 401 with this text. */
export class SignatureFailure extends Error {
  override name = "SignatureFailure";
}

export interface Claims {
  iss: string;
  sub?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  body: string;
  [claim: string]: unknown;
}

type Algorithm = "SHA-256" | "SHA-384" | "SHA-512";
// A Map, not an object: a header's `alg` is anyone's text, and "toString" or "__proto__" would
// find Object.prototype's members in an object literal.
const ALGORITHMS = new Map<unknown, Algorithm>([
  ["HS256", "SHA-256"],
  ["HS384", "SHA-384"],
  ["HS512", "SHA-512"],
]);

/** The two primitives verification needs, from whichever crypto the runtime has. */
interface Crypto {
  /** Whether `signature` is the HMAC of `data` under `key`, compared in constant time. */
  hmacMatches(
    algorithm: Algorithm,
    key: string,
    data: string,
    signature: Uint8Array,
  ): boolean | Promise<boolean>;
  /** base64url (unpadded) SHA-256 of the bytes. */
  sha256(bytes: Uint8Array): string | Promise<string>;
}

interface NodeCrypto {
  createHmac(algorithm: string, key: string): { update(data: string): { digest(): Uint8Array } };
  createHash(algorithm: string): { update(data: Uint8Array): { digest(encoding: "base64url"): string } };
  /** One-shot digest (Node >= 20.12), cheaper than a Hash object. */
  hash?(algorithm: string, data: Uint8Array, encoding: "base64url"): string;
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}

const NODE_NAMES: Record<Algorithm, string> = {
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

/**
 * node:crypto is synchronous and several times cheaper per call than WebCrypto's promises.
 * It is reached through `process.getBuiltinModule` (Node >= 20.16, Deno, Bun, Workers with
 * nodejs_compat), which bundlers cannot see, so edge bundles never try to resolve it.
 */
function nodeCrypto(): Crypto | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let crypto: NodeCrypto | undefined;
  try {
    crypto = process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
  } catch {
    return undefined;
  }
  if (typeof crypto?.createHmac !== "function" || typeof crypto.timingSafeEqual !== "function")
    return undefined;
  const node = crypto;
  return {
    hmacMatches(algorithm, key, data, signature) {
      const expected = node.createHmac(NODE_NAMES[algorithm], key).update(data).digest();
      return expected.length === signature.length && node.timingSafeEqual(expected, signature);
    },
    sha256: node.hash
      ? (bytes) => node.hash!("sha256", bytes, "base64url")
      : (bytes) => node.createHash("sha256").update(bytes).digest("base64url"),
  };
}

function webCrypto(): Crypto {
  const subtle = globalThis.crypto.subtle;
  const encoder = new TextEncoder();
  // Importing a key costs more than the HMAC itself; keys change only on rotation.
  const keys = new Map<string, Promise<CryptoKey>>();
  const keyFor = (algorithm: Algorithm, secret: string): Promise<CryptoKey> => {
    const id = `${algorithm}:${secret}`;
    let key = keys.get(id);
    if (!key) {
      if (keys.size > 16) keys.clear();
      key = subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: algorithm }, false, [
        "verify",
      ]);
      keys.set(id, key);
    }
    return key;
  };
  return {
    async hmacMatches(algorithm, secret, data, signature) {
      // subtle.verify compares in constant time.
      return subtle.verify(
        "HMAC",
        await keyFor(algorithm, secret),
        signature as BufferSource,
        encoder.encode(data),
      );
    },
    async sha256(bytes) {
      return bytesToBase64Url(new Uint8Array(await subtle.digest("SHA-256", bytes as BufferSource)));
    },
  };
}

let selected: Crypto | undefined;
function runtimeCrypto(): Crypto {
  selected ??= nodeCrypto() ?? webCrypto();
  return selected;
}

/** Use WebCrypto even where node:crypto exists (tests of the edge path). @internal */
export function useWebCryptoForTests(enabled: boolean): void {
  selected = enabled ? webCrypto() : undefined;
}

/**
 * Node's Buffer (also in Bun and Deno's Node layer) decodes base64url natively, several times
 * faster than atob and a loop. It skips characters outside the alphabet instead of refusing
 * them, so it only ever sees segments COMPACT_JWT has checked, and a length of 1 mod 4 (which
 * atob refuses) is refused before it.
 */
interface NativeBuffer {
  from(text: string, encoding: "base64url"): Uint8Array & { toString(): string };
}
const nativeBuffer = (globalThis as { Buffer?: NativeBuffer }).Buffer;

/** The bytes of a checked base64url segment; throws on a length no base64 has. */
function segmentBytes(segment: string): Uint8Array {
  if (segment.length % 4 === 1) throw new SyntaxError("no base64 has a length of 1 mod 4");
  return nativeBuffer ? nativeBuffer.from(segment, "base64url") : base64ToBytes(segment);
}

/** The UTF-8 text of a checked base64url segment (invalid sequences become U+FFFD). */
function segmentText(segment: string): string {
  if (segment.length % 4 === 1) throw new SyntaxError("no base64 has a length of 1 mod 4");
  return nativeBuffer ? nativeBuffer.from(segment, "base64url").toString() : base64ToText(segment);
}

function decodeJson(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(segmentText(segment));
  } catch {
    throw new SignatureFailure(`malformed signature: the JWT ${what} is not base64url JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SignatureFailure(`malformed signature: the JWT ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function decodeSignature(segment: string): Uint8Array {
  try {
    // Padding carries no bits; without it the length check below is base64url's.
    return segmentBytes(segment.endsWith("=") ? segment.replace(/=+$/, "") : segment);
  } catch {
    // A length of 1 mod 4 is no base64 at all (atob refuses it); no key made this token.
    throw new SignatureFailure("malformed signature: the JWT signature is not base64url");
  }
}

/**
 * Three base64url segments; the signature may be empty (then it matches nothing). The
 * signature may also be written in standard base64, padded or not: the official Receiver
 * (jose) decodes it so, and what it accepts, the receiver accepts. Header and payload are
 * signed as the text they are, so another spelling of them can only fail the HMAC.
 */
const COMPACT_JWT = /^[\w-]*\.[\w-]*\.[\w+/-]*=*$/;

/** A time claim for a message; one beyond Date's range (only a hand-made token) as it came. */
function timeOf(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} (seconds since 1970)` : date.toISOString();
}

let lastHeader: { part: string; value: Record<string, unknown> } | undefined;

export interface VerifyOptions {
  keys: { current: string; next: string };
  /** Seconds of tolerated clock skew. */
  clockTolerance: number;
  /** Current time in seconds (tests). */
  now?: number;
}

/** The parts of a well-formed token whose header names an algorithm we verify. */
interface ParsedToken {
  algorithm: Algorithm;
  /** `header.payload`, the bytes the HMAC covers. */
  signed: string;
  payloadPart: string;
  signature: Uint8Array;
}

function parseToken(token: string): ParsedToken {
  if (!COMPACT_JWT.test(token)) {
    throw new SignatureFailure("malformed signature: Upstash-Signature is not a compact JWT");
  }
  const [headerPart, payloadPart, signaturePart] = token.split(".") as [string, string, string];
  // QStash sends the same header on every token; decode it once. Read-only below.
  if (headerPart !== lastHeader?.part) {
    lastHeader = { part: headerPart, value: decodeJson(headerPart, "header") };
  }
  const header = lastHeader.value;
  const algorithm = ALGORITHMS.get(header.alg);
  if (!algorithm)
    throw new SignatureFailure(
      `unsupported signature algorithm ${JSON.stringify(header.alg)}; QStash signs with HS256`,
    );
  // jose refuses critical extensions it does not know, and so do we.
  if (header.crit !== undefined) throw new SignatureFailure('unsupported JWT header parameter "crit"');
  return {
    algorithm,
    // A slice of the token, not a concatenation the HMAC would have to flatten first.
    signed: token.slice(0, headerPart.length + 1 + payloadPart.length),
    payloadPart,
    signature: decodeSignature(signaturePart),
  };
}

/** The claims of a token whose signature matched, checked against the clock. */
function checkClaims(payloadPart: string, options: VerifyOptions): Claims {
  const claims = decodeJson(payloadPart, "payload") as Claims;
  if (claims.iss !== "Upstash")
    throw new SignatureFailure(`wrong issuer ${JSON.stringify(claims.iss)}; expected "Upstash"`);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.clockTolerance;
  for (const claim of TIME_CLAIMS) {
    if (claims[claim] !== undefined && typeof claims[claim] !== "number") {
      throw new SignatureFailure(`malformed signature: "${claim}" is not a number`);
    }
  }
  if (claims.exp !== undefined && claims.exp <= now - tolerance) {
    throw new SignatureFailure(
      `signature expired at ${timeOf(claims.exp)} (clock tolerance ${tolerance}s); is this machine's clock right?`,
    );
  }
  if (claims.nbf !== undefined && claims.nbf > now + tolerance) {
    throw new SignatureFailure(
      `signature not valid before ${timeOf(claims.nbf)} (clock tolerance ${tolerance}s); is this machine's clock right?`,
    );
  }
  if (claims.sub !== undefined && typeof claims.sub !== "string") {
    throw new SignatureFailure('malformed signature: "sub" is not a string');
  }
  if (typeof claims.body !== "string") throw new SignatureFailure('malformed signature: no "body" claim');
  return claims;
}

const TIME_CLAIMS = ["exp", "nbf", "iat"] as const;

/**
 * Check a token against the raw body: its claims, or a `SignatureFailure` with the reason.
 * Synchronous where node:crypto is (Node, Bun, Deno, Workers with nodejs_compat), a promise
 * with WebCrypto; either way it throws or rejects only `SignatureFailure`. `sub` is returned
 * for the caller to compare, since only the router knows which URL this request should have
 * been signed for.
 */
export function verifySignature(token: string, body: Uint8Array, options: VerifyOptions): Maybe<Claims> {
  const { algorithm, signed, payloadPart, signature } = parseToken(token);
  const crypto = runtimeCrypto();
  const { current, next } = options.keys;
  const matched = andThen(
    crypto.hmacMatches(algorithm, current, signed, signature),
    (matches) => matches || (next !== current && crypto.hmacMatches(algorithm, next, signed, signature)),
  );
  return andThen(matched, (matches) => {
    if (!matches) {
      throw new SignatureFailure(
        "signature does not match the current or the next signing key; check QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY",
      );
    }
    const claims = checkClaims(payloadPart, options);
    return andThen(crypto.sha256(body), (hash) => {
      if (hash !== claims.body.replace(/=+$/, "")) {
        throw new SignatureFailure(
          "body hash does not match the signature: the body changed after QStash signed it (likely re-serialised by a body parser; pass the raw body)",
        );
      }
      return claims;
    });
  });
}
