import { createHash, createHmac } from "node:crypto";
import { Receiver } from "@upstash/qstash";
import { describe, expect, it } from "vitest";
import { BASE, createFixture } from "../helpers/fixture.js";
import { KEYS, type SignOptions, sign } from "../helpers/sign.js";

/**
 * The official Receiver is the reference: on the same token, body and URL, what it accepts
 * the jobstash handler accepts, and what it rejects the handler answers with 401.
 */
const url = `${BASE}/greet`;
const body = JSON.stringify({ name: "Ada" });
const now = Math.floor(Date.now() / 1000);
const receiver = new Receiver({ currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });

function rawToken(header: object, payload: object, key = KEYS.current, hmac = "sha256"): string {
  return signedText(JSON.stringify(header), JSON.stringify(payload), key, hmac);
}
/** A token over JSON text as given, for values JSON.stringify never writes (1e999). */
function signedText(header: string, payload: string, key = KEYS.current, hmac = "sha256"): string {
  const b64 = (text: string) => Buffer.from(text).toString("base64url");
  const signed = `${b64(header)}.${b64(payload)}`;
  return `${signed}.${createHmac(hmac, key).update(signed).digest("base64url")}`;
}
/** The valid claims as JSON text with one claim's value replaced by raw JSON. */
const claimsWith = (claim: string, json: string) =>
  JSON.stringify({ ...claims, [claim]: 0 }).replace(`"${claim}":0`, `"${claim}":${json}`);
/** The token with its signature in standard base64, found among tokens until it holds - or _. */
function standardBase64Signature(token: string): string {
  let [h, p, signature] = token.split(".") as [string, string, string];
  for (let n = 0; !/[-_]/.test(signature); n++) {
    [h, p, signature] = sign({ url, body, claims: { jti: `jwt_${n}` } }).split(".") as [
      string,
      string,
      string,
    ];
  }
  return `${h}.${p}.${signature.replace(/-/g, "+").replace(/_/g, "/")}`;
}
const bodyHash = createHash("sha256").update(body).digest("base64url");
const claims = { iss: "Upstash", sub: url, exp: now + 300, nbf: 0, iat: now, body: bodyHash };

const cases: [string, string, string?][] = [
  ["valid (current key)", sign({ url, body })],
  ["valid (next key)", sign({ url, body, key: KEYS.next })],
  ["valid, unpadded body hash", rawToken({ alg: "HS256", typ: "JWT" }, claims)],
  ["valid, nbf 0 as QStash sends it", sign({ url, body, claims: { nbf: 0 } })],
  ["valid, no exp/nbf/iat", rawToken({ alg: "HS256" }, { iss: "Upstash", sub: url, body: bodyHash })],
  ["valid, HS384", rawToken({ alg: "HS384", typ: "JWT" }, claims, KEYS.current, "sha384")],
  ["valid, HS512", rawToken({ alg: "HS512", typ: "JWT" }, claims, KEYS.current, "sha512")],
  ["within clock tolerance (expired 3 s ago)", sign({ url, body, now: now - 303 })],
  ["wrong key", sign({ url, body, key: "sig_3nv9o3o4EFNhqvqBXcDGRhdGVqaT" })],
  ["expired beyond tolerance", sign({ url, body, now: now - 400 })],
  ["not yet valid", sign({ url, body, claims: { nbf: now + 120 } })],
  ["wrong issuer", sign({ url, body, claims: { iss: "upstash" } })],
  ["missing issuer", rawToken({ alg: "HS256" }, { ...claims, iss: undefined })],
  ["wrong subject", sign({ url: `${BASE}/other`, body })],
  ["body of another message", sign({ url, body: '{"name":"Eve"}' })],
  [
    "alg none",
    `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`,
  ],
  ["alg RS256 label on an HMAC", rawToken({ alg: "RS256" }, claims)],
  ["HS512 header, HS256 signature", rawToken({ alg: "HS512" }, claims)],
  [
    "tampered payload",
    (() => {
      const [h, , s] = sign({ url, body }).split(".");
      return `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: url })).toString("base64url")}.${s}`;
    })(),
  ],
  ["exp as a string", sign({ url, body, claims: { exp: String(now + 300) } })],
  ["payload is an array", rawToken({ alg: "HS256" }, [claims])],
  ["no body claim", sign({ url, body, claims: { body: undefined } } as SignOptions)],
  ["crit header", rawToken({ alg: "HS256", crit: ["exp"] }, claims)],
  ["not a JWT", "hello"],
  // Found by the fuzz test: jose decodes the signature as plain base64 too, padding and all.
  ["signature padded with =", `${sign({ url, body })}=`],
  ["signature padded with ===", `${sign({ url, body })}===`],
  ["signature in standard base64 (+ and /)", standardBase64Signature(sign({ url, body }))],
  [
    "an = inside the signature",
    (() => {
      const [h, p, s] = sign({ url, body }).split(".");
      return `${h}.${p}.${s!.slice(0, 10)}=${s!.slice(10)}`;
    })(),
  ],
  // Each of these answered 500 once: anyone could send the first four, unsigned.
  ["a signature of length 1 mod 4 (no base64)", `${sign({ url, body }).split(".").slice(0, 2).join(".")}.x`],
  ['alg "toString" (an Object.prototype member)', rawToken({ alg: "toString" }, claims)],
  ['alg "__proto__"', rawToken({ alg: "__proto__" }, claims)],
  ["alg an object with a non-callable toString", rawToken({ alg: { toString: 1 } }, claims)],
  ["exp -1e999 (minus Infinity)", signedText('{"alg":"HS256"}', claimsWith("exp", "-1e999"))],
  ["nbf 1e20 (beyond Date's range)", signedText('{"alg":"HS256"}', claimsWith("nbf", "1e20"))],
  [
    "sub an object with a non-callable toString",
    rawToken({ alg: "HS256" }, { ...claims, sub: { toString: 1 } }),
  ],
];

describe("parity with the official Receiver", () => {
  it.each(cases)("%s", async (_name, token) => {
    const reference = await receiver.verify({ signature: token, body, url, clockTolerance: 5 }).then(
      () => true,
      () => false,
    );
    const { handler } = createFixture();
    const response = await handler(
      new Request(url, {
        method: "POST",
        body,
        headers: { "upstash-signature": token, "content-type": "application/json" },
      }),
    );
    expect(
      response.status === 200
        ? "accepted"
        : response.status === 401
          ? "rejected"
          : `status ${response.status}`,
    ).toBe(reference ? "accepted" : "rejected");
  });

  it("covers both verdicts", async () => {
    const verdicts = await Promise.all(
      cases.map(([, token]) =>
        receiver.verify({ signature: token, body, url, clockTolerance: 5 }).then(
          () => true,
          () => false,
        ),
      ),
    );
    expect(verdicts.filter(Boolean).length).toBeGreaterThanOrEqual(7);
    expect(verdicts.filter((v) => !v).length).toBeGreaterThanOrEqual(14);
  });
});

describe("keys longer than the hash block", () => {
  it("verify the same as the official Receiver (RFC 2104 hashes such keys first)", async () => {
    const long = { current: `sig_${"k".repeat(150)}`, next: `sig_${"n".repeat(150)}` };
    const token = sign({ url, body, key: long.next });
    const official = new Receiver({ currentSigningKey: long.current, nextSigningKey: long.next });
    await expect(official.verify({ signature: token, body, url })).resolves.toBe(true);
    const { createHandler, createJobstash, defineJob } = await import("jobstash");
    const { z } = await import("zod");
    const jobs = createJobstash({
      app: "long-keys",
      jobs: [defineJob({ id: "greet", input: z.object({ name: z.string() }), run: () => ({ ok: true }) })],
      baseUrl: BASE,
      signingKeys: long,
      env: {},
    });
    const response = await createHandler(jobs)(
      new Request(url, { method: "POST", body, headers: { "upstash-signature": token } }),
    );
    expect(response.status).toBe(200);
  });
});
