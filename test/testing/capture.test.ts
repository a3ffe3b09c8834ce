import { createJobstash, defineJob, PublishError } from "jobstash";
import { createTestJobstash } from "jobstash/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { harness, quietLogger } from "./helpers.js";

// What the harness captures: `jobs.trigger` inside jobs and in the code under test, with no
// QStash and no environment variables, through the real receiver's verification.

/** A QStash nothing answers: a trigger that escapes the harness fails fast and says so. */
const NOWHERE = { url: "http://127.0.0.1:9", token: "not-a-real-token", timeout: "300ms" } as const;

function shop() {
  const receipts: string[] = [];
  const sendReceipt = defineJob({
    id: "send-receipt",
    input: z.object({ orderId: z.string() }),
    run(input) {
      receipts.push(input.orderId);
    },
  });
  const placeOrder = defineJob({
    id: "place-order",
    input: z.object({ orderId: z.string() }),
    async run(input, ctx) {
      // The registry under test, from inside a job: captured, not sent to QStash.
      const receipt: string = await jobs.trigger("send-receipt", { orderId: input.orderId }, { delay: "1m" });
      const viaEnv: string = await jobs
        .withEnv(ctx.env)
        .trigger("send-receipt", { orderId: `${input.orderId}-copy` });
      return { receipt, viaEnv };
    },
  });
  const jobs = createJobstash({
    app: "shop",
    jobs: [placeOrder, sendReceipt],
    baseUrl: "https://shop.example/api/jobs",
    qstash: NOWHERE,
    logger: quietLogger(),
  });
  return { jobs, receipts };
}

describe("capturing jobs.trigger", () => {
  it("captures triggers made inside a job, which then run in the same drain", async () => {
    const { jobs, receipts } = shop();
    const t = harness(jobs, { now: "2026-03-29T00:30:00Z" });
    await t.trigger("place-order", { orderId: "o1" });
    await t.drain();
    const [order] = t.runs("place-order");
    const output = order!.output as { receipt: string; viaEnv: string };
    expect(t.runs("send-receipt").map((r) => [r.messageId, r.input])).toEqual([
      [output.viaEnv, { orderId: "o1-copy" }],
      [output.receipt, { orderId: "o1" }],
    ]);
    expect(t.message(output.receipt).notBefore).toEqual(new Date("2026-03-29T00:31:00Z"));
    expect(receipts).toEqual(["o1-copy", "o1"]);
  });

  it("captures jobs.trigger from the code under test while open, and lets go on close", async () => {
    const { jobs } = shop();
    const t = createTestJobstash(jobs);
    const id = await jobs.trigger("send-receipt", { orderId: "o2" });
    await t.advance(0);
    expect(t.runs("send-receipt").map((r) => r.messageId)).toEqual([id]);
    await t.close();
    // Closed: trigger publishes to QStash again (here, to nothing).
    await expect(jobs.trigger("send-receipt", { orderId: "o3" })).rejects.toBeInstanceOf(PublishError);
    await expect(t.trigger("send-receipt", { orderId: "o3" })).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("lets two harnesses share a registry: each delivery's triggers go to its own harness", async () => {
    const { jobs } = shop();
    const a = harness(jobs);
    const b = harness(jobs);
    await a.trigger("place-order", { orderId: "from-a" });
    await b.trigger("place-order", { orderId: "from-b" });
    await Promise.all([a.drain(), b.drain()]);
    const inputs = (t: typeof a) =>
      t
        .runs("send-receipt")
        .map((r) => r.input.orderId)
        .sort();
    expect(inputs(a)).toEqual(["from-a", "from-a-copy"]);
    expect(inputs(b)).toEqual(["from-b", "from-b-copy"]);
    // Outside any delivery a bare jobs.trigger has no harness to go to.
    await expect(jobs.trigger("send-receipt", { orderId: "x" })).rejects.toMatchObject({
      code: "AMBIGUOUS_HARNESS",
      message: expect.stringContaining("2 test harnesses are open"),
    });
    await b.close();
    await jobs.trigger("send-receipt", { orderId: "x" });
    await a.advance(0);
    expect(inputs(a)).toEqual(["from-a", "from-a-copy", "x"]);
  });
});

describe("settings", () => {
  it("needs no environment: jobs see the env option, with a base URL and keys filled in", async () => {
    const seen: Record<string, unknown>[] = [];
    const job = defineJob({
      id: "env",
      input: z.undefined(),
      run(_input, ctx) {
        seen.push(ctx.env);
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), {
      env: { DATABASE_URL: "postgres://test" },
    });
    await t.trigger("env", undefined);
    await t.advance(0);
    expect(t.runs("env")[0]!.status).toBe(200);
    expect(seen[0]).toMatchObject({
      DATABASE_URL: "postgres://test",
      JOBSTASH_BASE_URL: "http://jobstash.test/api/jobs",
      QSTASH_CURRENT_SIGNING_KEY: expect.stringMatching(/^sig_/),
    });
  });

  it("fills in what withEnv's bindings lack from the harness's env", async () => {
    const seen: unknown[] = [];
    const job = defineJob({
      id: "flagged",
      input: z.undefined(),
      run(_input, ctx) {
        seen.push(ctx.env.FEATURE);
      },
    });
    const jobs = createJobstash({ app: "acme", jobs: [job], logger: quietLogger() });
    const t = harness(jobs, { env: { FEATURE: "on" } });
    // As a Hono route would, with the request's bindings (no JOBSTASH_BASE_URL among them).
    await jobs.withEnv({ SOME_BINDING: "x" }).trigger("flagged", undefined);
    await t.advance(0);
    expect(t.runs("flagged")).toEqual([expect.objectContaining({ status: 200 })]);
    expect(seen).toEqual(["on"]);
  });

  it("signs with the registry's own keys and base URL when it sets them", async () => {
    const job = defineJob({ id: "keyed", input: z.undefined(), run: () => "ok" });
    const jobs = createJobstash({
      app: "acme",
      jobs: [job],
      baseUrl: "https://acme.example/api/jobs",
      signingKeys: { current: "sig_currentcurrentcurrentcurrent", next: "sig_nextnextnextnextnextnextnext" },
      logger: quietLogger(),
    });
    const t = harness(jobs);
    await t.trigger("keyed", undefined);
    await t.advance(0);
    expect(t.runs("keyed")).toEqual([expect.objectContaining({ status: 200, output: "ok" })]);
  });

  it("verifies every delivery for real: a message signed for another URL is refused", async () => {
    const job = defineJob({ id: "guarded", input: z.undefined(), retries: 0, run: () => "ran" });
    const jobs = createJobstash({ app: "acme", jobs: [job], logger: quietLogger() });
    const t = harness(jobs);
    // Published to a base URL the receiver does not answer for: the signature's `sub` differs.
    await jobs.withEnv({ JOBSTASH_BASE_URL: "https://elsewhere.example/jobs" }).trigger("guarded", undefined);
    await t.drain();
    expect(t.runs("guarded")).toEqual([
      expect.objectContaining({
        status: 401,
        outcome: "failed",
        error: expect.objectContaining({ code: "URL_MISMATCH" }),
      }),
    ]);
  });

  it("delivers on a virtual clock set years in the past (signatures are issued at the real time)", async () => {
    const job = defineJob({ id: "old", input: z.undefined(), run: () => {} });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), {
      now: "2020-02-29T12:00:00Z",
    });
    await t.trigger("old", undefined, { delay: "1d" });
    await t.drain();
    expect(t.runs("old")).toEqual([
      expect.objectContaining({ status: 200, time: new Date("2020-03-01T12:00:00Z") }),
    ]);
  });
});
