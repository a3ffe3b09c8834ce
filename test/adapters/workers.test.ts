import { describe, expect, it } from "vitest";
import { BASE, KEYS } from "../helpers/keys.js";
import { sign } from "../helpers/sign.js";
import { bundleWorker, startWorker, wranglerConfig } from "../helpers/worker.js";
import { conformance, type Running, type Seen } from "./conformance.js";

// Real workerd through miniflare; configuration arrives as bindings, read per request.
const bindings = {
  JOBSTASH_BASE_URL: BASE,
  QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
  QSTASH_NEXT_SIGNING_KEY: KEYS.next,
};
const script = bundleWorker("test/adapters/worker-entry.ts");
const honoScript = bundleWorker("test/adapters/hono-worker-entry.ts");

async function start(prefix: string, nodejsCompat: boolean, bundle = script): Promise<Running> {
  const worker = await startWorker(await bundle, { vars: bindings, nodejsCompat });
  const origin = worker.origin + prefix;
  return {
    origin,
    seen: async () => (await (await fetch(`${origin}/__seen`)).json()) as Seen,
    close: worker.close,
  };
}

conformance({ name: "Workers (module syntax, nodejs_compat)", start: () => start("", true) });
conformance({ name: "Workers (Pages-style context, WebCrypto)", start: () => start("/pages", false) });
conformance({ name: "Hono on Workers", start: () => start("", true, honoScript) });

describe("the example worker (wrangler.toml main)", () => {
  it("bundles, verifies a signed delivery with the toml's vars and runs the job", async () => {
    const config = wranglerConfig();
    const worker = await startWorker(await bundleWorker(config.main));
    try {
      const body = JSON.stringify({ url: "https://img.example.com/cat.png", width: 320 });
      const sub = `${config.vars!.JOBSTASH_BASE_URL}/resize-image`;
      const response = await fetch(`${worker.origin}/api/jobs/resize-image`, {
        method: "POST",
        body,
        headers: { "upstash-signature": sign({ url: sub, body }), "content-type": "application/json" },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ url: "https://img.example.com/cat.png?w=320" });
      const bounced = JSON.stringify({ email: "nobody" });
      const nonRetryable = await fetch(`${worker.origin}/api/jobs/verify-address`, {
        method: "POST",
        body: bounced,
        headers: {
          "upstash-signature": sign({
            url: `${config.vars!.JOBSTASH_BASE_URL}/verify-address`,
            body: bounced,
          }),
        },
      });
      expect([nonRetryable.status, nonRetryable.headers.get("upstash-nonretryable-error")]).toEqual([
        489,
        "true",
      ]);
    } finally {
      await worker.close();
    }
  });
});
