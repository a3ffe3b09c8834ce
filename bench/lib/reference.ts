// The Hono routes the receiver benchmarks measure jobstash against, and the one delivery they
// all answer. Each is what an app would write by hand, with nothing the comparison does not need.
import { createHmac, hash, timingSafeEqual } from "node:crypto";
import { Receiver } from "@upstash/qstash";
import { Hono } from "hono";
import { z } from "zod";
import { KEYS } from "../../test/helpers/sign.js";

/** The job's input schema, the same in jobstash's job and in every verifying route. */
export const benchInput = () => z.object({ n: z.number(), text: z.string() });

/** A 1 KB JSON body that matches {@link benchInput}. */
export const BENCH_BODY = JSON.stringify({ n: 1, text: "x".repeat(1024 - 20) });

/** Reads the body and answers `{ ok: true }`: the framework alone, no verification. */
export function bareRoute(): Hono {
  return new Hono().post("/:id", async (c) => {
    await c.req.arrayBuffer();
    return c.json({ ok: true });
  });
}

/**
 * The floor: what any verifying receiver must do, written inline with nothing else. The body's
 * bytes; HS256 with node:crypto under the current key, else the next, compared in constant
 * time; the claims `iss`, `exp`, `nbf` and `sub` (this route's public URL) and the body's
 * SHA-256; JSON.parse and the job's zod schema; `{ ok: true }` back. No error messages worth
 * the name, no other algorithms, no logging, no job to run: no real receiver can be cheaper.
 * The second key is tried only when the first does not match, as jobstash and the official
 * `Receiver` do; computing both every time would make this floor easier to reach.
 */
export function handWrittenRoute(baseUrl: string, keys = KEYS): Hono {
  const schema = benchInput();
  const macMatches = (key: string, signed: string, given: Buffer) => {
    const mac = createHmac("sha256", key).update(signed).digest();
    return mac.length === given.length && timingSafeEqual(mac, given);
  };
  return new Hono().post("/:id", async (c) => {
    const body = Buffer.from(await c.req.arrayBuffer());
    const token = c.req.header("upstash-signature") ?? "";
    const [header, payload, signature] = token.split(".");
    if (header === undefined || payload === undefined || signature === undefined)
      return c.text("malformed token", 401);
    const signed = `${header}.${payload}`;
    const given = Buffer.from(signature, "base64url");
    if (!macMatches(keys.current, signed, given) && !macMatches(keys.next, signed, given))
      return c.text("bad signature", 401);
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== "Upstash") return c.text("bad issuer", 401);
    if (typeof claims.exp === "number" && claims.exp < now) return c.text("expired", 401);
    if (typeof claims.nbf === "number" && claims.nbf > now) return c.text("not yet valid", 401);
    if (claims.sub !== `${baseUrl}/${c.req.param("id")}`) return c.text("wrong URL", 401);
    if (hash("sha256", body, "base64url") !== String(claims.body).replace(/=+$/, ""))
      return c.text("body changed", 401);
    const parsed = schema.safeParse(JSON.parse(body.toString()));
    if (!parsed.success) return c.json({ error: "invalid payload" }, 400);
    return c.json({ ok: true });
  });
}

/** The official `Receiver` from @upstash/qstash, as its docs show it, then the same parse and schema. */
export function officialRoute(baseUrl: string, keys = KEYS): Hono {
  const schema = benchInput();
  const receiver = new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next });
  return new Hono().post("/:id", async (c) => {
    const body = await c.req.text();
    try {
      await receiver.verify({
        signature: c.req.header("upstash-signature") ?? "",
        body,
        url: `${baseUrl}/${c.req.param("id")}`,
      });
    } catch {
      return c.json({ error: "invalid signature" }, 401);
    }
    const parsed = schema.safeParse(JSON.parse(body));
    if (!parsed.success) return c.json({ error: "invalid payload" }, 400);
    return c.json({ ok: true });
  });
}
