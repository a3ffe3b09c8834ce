import { createHmac, hash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { z } from "zod";
import { KEYS } from "../../test/helpers/sign.js";

/**
 * The floor: the least any verifying receiver does, written inline with nothing else. HMAC
 * of the JWT with node:crypto, its claims decoded, the body's SHA-256 against them, the body
 * parsed and validated (`{ n: number }`), `{ ok: true }` back. No expiry, issuer or URL
 * checks, no second key, no error mapping, so no real receiver can be this cheap; it shows
 * how much of the gap to a bare route is the verification itself.
 */
export function floorApp(): Hono {
  const schema = z.object({ n: z.number() });
  return new Hono().post("/api/jobs/:id", async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const [header, payload, signature] = (c.req.header("upstash-signature") ?? "").split(".");
    const mac = createHmac("sha256", KEYS.current).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature ?? "", "base64url");
    if (given.length !== mac.length || !timingSafeEqual(mac, given)) return c.text("bad signature", 401);
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString());
    if (hash("sha256", body, "base64url") !== claims.body.replace(/=+$/, "")) return c.text("bad body", 401);
    schema.parse(JSON.parse(new TextDecoder().decode(body)));
    return c.json({ ok: true });
  });
}
