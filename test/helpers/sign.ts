import { createHash, createHmac, randomUUID } from "node:crypto";

import { KEYS } from "./keys.js";

export { KEYS };

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export interface SignOptions {
  key?: string;
  url: string;
  body?: string | Uint8Array;
  now?: number;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Node HMAC name for the header's alg. */
  hmac?: "sha256" | "sha384" | "sha512";
}

/**
 * A QStash signature made the way the docs describe (wire spec 5.2), independently of the
 * dev server's signer: HS256 over `header.payload`, keyed with the key string's bytes, the
 * body claim a padded base64url SHA-256 of the exact bytes.
 */
export function sign(options: SignOptions): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const body = options.body ?? "";
  const header = options.header ?? { alg: "HS256", typ: "JWT" };
  const payload = {
    iss: "Upstash",
    sub: options.url,
    exp: now + 300,
    nbf: now,
    iat: now,
    jti: `jwt_${randomUUID()}`,
    body: createHash("sha256").update(body).digest("base64url") + "=",
    ...options.claims,
  };
  const signed = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = createHmac(options.hmac ?? "sha256", options.key ?? KEYS.current)
    .update(signed)
    .digest("base64url");
  return `${signed}.${signature}`;
}

/** A signed delivery as QStash would POST it. */
export function delivery(
  url: string,
  body: unknown,
  options: { headers?: Record<string, string>; sign?: Partial<SignOptions>; raw?: string } = {},
): Request {
  const text = options.raw ?? (body === undefined ? "" : JSON.stringify(body));
  return new Request(url, {
    method: "POST",
    body: text,
    headers: {
      "content-type": "application/json",
      "upstash-signature": sign({ url, body: text, ...options.sign }),
      "upstash-message-id": "msg_test",
      "upstash-retried": "0",
      ...options.headers,
    },
  });
}
