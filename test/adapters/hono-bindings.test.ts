import { Hono } from "hono";
import { createJobstash, defineJob } from "jobstash";
import { serve } from "jobstash/hono";
import { expect, it } from "vitest";
import { z } from "zod";
import { KEYS } from "../helpers/keys.js";
import { sign } from "../helpers/sign.js";

// The Hono adapter outside @hono/node-server (Workers, Bun, Deno): configuration comes from
// `c.env` and `waitUntil` from `c.executionCtx`, both passed through to the core.
it("passes Workers-style env bindings and the execution context through", async () => {
  const waited: Promise<unknown>[] = [];
  const job = defineJob({
    id: "echo",
    input: z.object({ n: z.number() }),
    run: (input, ctx) => {
      ctx.waitUntil(Promise.resolve("later"));
      return { n: input.n, region: ctx.env.REGION };
    },
  });
  const app = new Hono().route("/api/jobs", serve(createJobstash({ app: "t", jobs: [job] })));
  const env = {
    JOBSTASH_BASE_URL: "https://edge.example.com/api/jobs",
    QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
    QSTASH_NEXT_SIGNING_KEY: KEYS.next,
    REGION: "fra",
  };
  const body = JSON.stringify({ n: 7 });
  const request = new Request("http://worker.local/api/jobs/echo", {
    method: "POST",
    body,
    headers: { "upstash-signature": sign({ url: "https://edge.example.com/api/jobs/echo", body }) },
  });
  const response = await app.fetch(request, env, {
    waitUntil: (promise: Promise<unknown>) => waited.push(promise),
    passThroughOnException: () => {},
    props: {},
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ n: 7, region: "fra" });
  expect(waited).toHaveLength(1);
});
