import { createHash, createHmac } from "node:crypto";
import { Receiver } from "@upstash/qstash";
import { afterAll, describe, expect, it } from "vitest";
import { useWebCryptoForTests } from "../../src/handler/verify.js";
import { BASE, createFixture } from "../helpers/fixture.js";
import { KEYS, sign } from "../helpers/sign.js";

/**
 * Whatever arrives in Upstash-Signature, the receiver answers as the official Receiver
 * decides: 200 when it accepts the token, else 401 with a reason. Never a 5xx, no job run for
 * a token that does not verify, and at most one warn line per refusal. The tokens come from a
 * seeded PRNG: a failure prints its seed, and `FUZZ_SEED=<seed>` replays the same run
 * (`FUZZ_CASES` sets how many tokens of each kind).
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
const CASES = Number(process.env.FUZZ_CASES ?? 400);
console.info(`signature fuzz: FUZZ_SEED=${SEED}`);

const url = `${BASE}/greet`;
const body = JSON.stringify({ name: "Ada" });
const receiver = new Receiver({ currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });

/** mulberry32: small, fast, and the same sequence for the same seed on every runtime. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Every byte a header value may carry: no NUL, CR or LF (Headers trims the ends). */
const HEADER_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i))
  .filter((c) => !"\0\r\n".includes(c))
  .join("");

const bodyHash = createHash("sha256").update(body).digest("base64url");
const b64 = (text: string) => Buffer.from(text).toString("base64url");
const hmac = (signed: string, key = KEYS.current) =>
  createHmac("sha256", key).update(signed).digest("base64url");

function generators(random: () => number) {
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const text = (alphabet: string, length: number) =>
    Array.from({ length }, () => alphabet[int(alphabet.length)]).join("");
  const valid = () => sign({ url, body });

  /** One random edit of a token: a character replaced, inserted or removed, or its segments reshuffled. */
  function mutate(token: string): string {
    const at = int(token.length + 1);
    const char = pick([...B64URL, ".", "=", "+", "/"]);
    const parts = token.split(".");
    switch (int(7)) {
      case 0:
        return token.slice(0, at) + char + token.slice(at + 1);
      case 1:
        return token.slice(0, at) + char + token.slice(at);
      case 2:
        return token.slice(0, at) + token.slice(at + 1);
      case 3:
        return token.slice(0, at);
      case 4:
        return [parts[1], parts[0], parts[2]].join(".");
      case 5:
        return [...parts, pick(parts)].join(".");
      default:
        return parts.filter((_, i) => i !== int(parts.length)).join(".");
    }
  }

  /** A JSON value a hand-made token might carry where QStash puts a string or a number. */
  const oddValue = () =>
    pick([
      "HS256",
      "HS384",
      "none",
      "__proto__",
      "toString",
      "constructor",
      "hasOwnProperty",
      url,
      "Upstash",
      "1e999",
      "-1e999",
      "1e20",
      "-1e20",
      "0",
      "null",
      "[]",
      '{"toString":1}',
      '"x"',
      "true",
    ]);
  const quoted = (value: string) => (/^[[{"\-\dtn]/.test(value) ? value : JSON.stringify(value));

  return {
    "random header bytes": () => text(HEADER_BYTES, int(120)),
    "random base64url segments": () =>
      Array.from({ length: 1 + int(5) }, () => text(B64URL, int(90))).join("."),
    "random base64url of every length in each segment": (i: number) => {
      const parts = valid().split(".");
      parts[Math.floor(i / 130) % 3] = text(B64URL, i % 130);
      return parts.join(".");
    },
    "mutated valid tokens": () => {
      let token = valid();
      for (let edits = 1 + int(3); edits > 0; edits--) token = mutate(token);
      return token;
    },
    // Correctly signed, so verification gets past the HMAC to headers and claims no QStash
    // token has. Each field is usually what QStash sends, so later checks are reached too.
    "signed tokens with odd headers and claims": () => {
      const now = Math.floor(Date.now() / 1000);
      const usual: Record<string, string> = {
        iss: '"Upstash"',
        sub: JSON.stringify(url),
        exp: String(now + 300),
        nbf: String(now),
        iat: String(now),
        body: JSON.stringify(bodyHash),
      };
      const field = (value: string) => (random() < 0.7 ? value : quoted(oddValue()));
      const crit = random() < 0.1 ? ',"crit":["exp"]' : "";
      const header = `{"alg":${field('"HS256"')}${crit}}`;
      const claims = Object.entries(usual)
        .filter(() => random() < 0.9)
        .map(([claim, value]) => `"${claim}":${field(value)}`);
      const signed = `${b64(header)}.${b64(`{${claims.join(",")}}`)}`;
      return `${signed}.${hmac(signed)}`;
    },
  };
}

describe.each([
  ["node:crypto", false],
  ["WebCrypto", true],
])("Upstash-Signature fuzz (%s)", (_name, web) => {
  afterAll(() => useWebCryptoForTests(false));
  const kinds = generators(prng(SEED + (web ? 1 : 0)));

  it.each(Object.keys(kinds) as (keyof typeof kinds)[])("%s", async (kind) => {
    useWebCryptoForTests(web);
    const { handler, seen, logs } = createFixture();
    const failures: string[] = [];
    let accepted = 0;
    for (let i = 0; i < CASES; i++) {
      const token = kinds[kind](i);
      const request = new Request(url, {
        method: "POST",
        body,
        headers: { "upstash-signature": token, "content-type": "application/json" },
      });
      const sent = request.headers.get("upstash-signature") ?? "";
      const reference = await receiver.verify({ signature: sent, body, url, clockTolerance: 5 }).then(
        () => true,
        () => false,
      );
      if (reference) accepted++;
      const logged = logs.length;
      const response = await handler(request);
      const text = await response.text();
      const lines = logs.slice(logged);
      const reason = response.status === 401 ? JSON.parse(text).error?.message : "";
      const problem =
        response.status !== (reference ? 200 : 401)
          ? `answered ${response.status} ${text}, the official Receiver ${reference ? "accepts" : "rejects"} it`
          : !reference && !reason
            ? "401 without a reason"
            : lines.length > (reference ? 0 : 1) || lines.some((line) => !line.startsWith("warn "))
              ? `logged ${JSON.stringify(lines)}`
              : undefined;
      if (problem) failures.push(`${JSON.stringify(token)}: ${problem}`);
    }
    expect(failures.slice(0, 5), `FUZZ_SEED=${SEED} (${failures.length} of ${CASES} failed)`).toEqual([]);
    expect(seen.runs).toHaveLength(accepted);
  });
});
