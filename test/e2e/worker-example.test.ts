import { syncJobstash } from "jobstash/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/process.js";
import { bundleWorker, startWorker, wranglerConfig } from "../helpers/worker.js";
import { expectDeadLetteredOnce, type Harness, lineIn, startHarness } from "./harness.js";

/**
 * The worker example (wrangler.toml's `main`, examples/worker) bundled as wrangler bundles it
 * and run in workerd through miniflare with wrangler.toml's settings, its `vars` pointed at
 * the test's dev server and at the worker's own URL. This process triggers and syncs its
 * registry, configured with the same values, except where a test shows the worker triggering
 * itself; the worker's console output (its hooks) arrives through miniflare's structured logs.
 */
const lines: string[] = [];
const output = () => lines;
const line = (pattern: RegExp) => lineIn(output, pattern);
let harness: Harness;
let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
let baseUrl = "";
let jobs: typeof import("../../examples/worker/src/index.js")["jobs"];

beforeAll(async () => {
  harness = await startHarness({ output });
  // JOBSTASH_BASE_URL must name the worker's own port before it starts: pick a free one.
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}/api/jobs`;
  const vars = { ...harness.env, JOBSTASH_BASE_URL: baseUrl };
  worker = await startWorker(await bundleWorker(wranglerConfig().main), {
    vars,
    port,
    onLog: ({ level, message }) => lines.push(`${level}: ${message}`),
  });
  expect(`${worker.origin}/api/jobs`).toBe(baseUrl);
  Object.assign(process.env, vars);
  ({ jobs } = await import("../../examples/worker/src/index.js"));
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await harness?.close();
});

const responseJson = (log: object) =>
  JSON.parse(Buffer.from((log as { responseBody?: string }).responseBody ?? "", "base64").toString());

describe("the worker example in workerd on the jobstash dev server", () => {
  it("delivers a triggered job, verified, and its success callback reaches onSuccess", async () => {
    const messageId = await jobs.trigger("charge-card", { orderId: "o-1", cents: 1_250 });
    await harness.until(
      "onSuccess",
      line(new RegExp(`\\[jobstash charge-card ${messageId}\\] order o-1 paid: rcpt_o-1`)),
    );
    const { logs } = await harness.client.logs({ filter: { messageId } });
    const delivered = logs.find((log) => log.state === "DELIVERED");
    expect(delivered?.url).toBe(`${baseUrl}/charge-card`);
    expect(responseJson(delivered!)).toEqual({ receipt: "rcpt_o-1" });
  });

  it("retries a failing job until it gives up, then runs onFailure with the DLQ id", async () => {
    const messageId = await jobs.trigger("charge-card", { orderId: "o-2", cents: 250_000 });
    const failure = await harness.until("onFailure", line(/order o-2 not paid/));
    const { messages } = await harness.client.dlq.listMessages({ filter: { messageId } });
    expect(messages).toHaveLength(1);
    expect(failure).toMatch(/^warn: /);
    expect(failure).toContain(`order o-2 not paid (Error: card declined); DLQ ${messages[0]!.dlqId}`);
    const { logs } = await harness.client.logs({ filter: { messageId } });
    expect(logs.filter((log) => log.state === "ACTIVE")).toHaveLength(3);
  });

  it("sends a non-retryable failure to the DLQ after one attempt", async () => {
    const messageId = await jobs.trigger("verify-address", { email: "nobody" });
    await expectDeadLetteredOnce(harness, messageId, "nobody is not an email address");
  });

  it("fires the cron schedule `syncJobstash` created into the job with its schedule id", async () => {
    const { desired, report } = await syncJobstash(jobs, {
      env: "development",
      bindings: { ...harness.env, JOBSTASH_BASE_URL: baseUrl },
    });
    const scheduleId = desired.schedules.find((s) => s.jobId === "daily-digest")!.id;
    expect(report?.created.join("\n")).toContain(scheduleId);
    // "0 8 * * 1-5" in Europe/Berlin: up to three days away. Jump the virtual clock there.
    const schedule = await harness.client.schedules.get(scheduleId);
    expect([schedule.destination, schedule.cron]).toEqual([
      `${baseUrl}/daily-digest`,
      "CRON_TZ=Europe/Berlin 0 8 * * 1-5",
    ]);
    await harness.clock.advanceTo(schedule.nextScheduleTime!);
    const delivered = await harness.until(
      "the digest delivered",
      async () =>
        (await harness.client.logs({ filter: { scheduleId } })).logs.find((log) => log.state === "DELIVERED"),
      { stepMs: 0 },
    );
    expect(delivered.url).toBe(`${baseUrl}/daily-digest`);
    expect(responseJson(delivered)).toEqual({ team: "core", sent: true });
  });
});

describe("triggering from a worker without nodejs_compat (no process.env)", () => {
  const workers: Awaited<ReturnType<typeof startWorker>>[] = [];
  afterAll(() => Promise.all(workers.map((w) => w.close())));

  // Each worker's JOBSTASH_BASE_URL names its own port, so each gets one before it starts.
  async function start(entry: string) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/api/jobs`;
    const started = await startWorker(await bundleWorker(entry), {
      vars: { ...harness.env, JOBSTASH_BASE_URL: base },
      nodejsCompat: false,
      port,
      onLog: ({ level, message }) => lines.push(`${level}: ${message}`),
    });
    workers.push(started);
    return { origin: started.origin, base };
  }

  it("the example's fetch handler triggers with its bindings, and the job is delivered", async () => {
    const { origin, base } = await start(wranglerConfig().main);
    const response = await fetch(`${origin}/orders`, {
      method: "POST",
      body: JSON.stringify({ orderId: "o-4", cents: 900 }),
    });
    expect(response.status).toBe(202);
    const { messageId } = (await response.json()) as { messageId: string };
    await harness.until(
      "onSuccess",
      line(new RegExp(`charge-card ${messageId}\\] order o-4 paid: rcpt_o-4`)),
    );
    const { logs } = await harness.client.logs({ filter: { messageId } });
    expect(logs.find((log) => log.state === "DELIVERED")?.url).toBe(`${base}/charge-card`);

    // An order that fails the schema is refused before anything is published.
    const refused = await fetch(`${origin}/orders`, {
      method: "POST",
      body: JSON.stringify({ orderId: "o-6" }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ issues: [{ path: ["cents"] }] });
  });

  it("a job triggers another with ctx.env, and that one is delivered", async () => {
    const { base } = await start("test/e2e/worker-trigger-entry.ts");
    const { jobs: chain } = await import("./worker-trigger-entry.js");
    // This process has the dev server's settings in process.env; only the base URL differs.
    await chain.withEnv({ JOBSTASH_BASE_URL: base }).trigger("order", { orderId: "o-5" });
    const receipt = /\[jobstash receipt (\S+)\] receipt for o-5/;
    const messageId = receipt.exec(await harness.until("the receipt", line(receipt)))![1]!;
    const { logs } = await harness.client.logs({ filter: { messageId } });
    expect(logs.find((log) => log.state === "DELIVERED")?.url).toBe(`${base}/receipt`);
  });
});
