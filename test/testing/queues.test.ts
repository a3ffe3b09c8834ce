import { createJobstash, defineFlowControl, defineJob, defineQueue } from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FIFO_HEAD_RETRIES, RATE_LIMIT } from "../helpers/qstash-semantics.js";
import { harness, quietLogger, tick } from "./helpers.js";

// Queues and flow control hold deliveries in the engine exactly as the dev server does; the
// jobs here wait a real moment, so deliveries the engine lets through together overlap.
const START = Date.parse("2026-03-29T00:30:00Z");

/** Counts how many runs overlap at most. */
function overlap() {
  let now = 0;
  let peak = 0;
  return {
    peak: () => peak,
    async run() {
      peak = Math.max(peak, ++now);
      await tick();
      now--;
    },
  };
}

describe("queues", () => {
  it("keeps FIFO order with parallelism 1 while the head message retries", async () => {
    const attempts = new Map<string, number>();
    const job = defineJob({
      id: "ordered",
      input: z.object({ body: z.string() }),
      queue: "orders",
      retryDelay: FIFO_HEAD_RETRIES.retryDelayMs,
      run({ body }) {
        const n = (attempts.get(body) ?? 0) + 1;
        attempts.set(body, n);
        if (body === "A" && n < 3) throw new Error("not yet");
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    for (const body of FIFO_HEAD_RETRIES.bodies) await t.trigger("ordered", { body });
    await t.drain();
    expect(t.runs("ordered").map((r) => r.input.body)).toEqual(FIFO_HEAD_RETRIES.order);
    expect(t.message(t.runs()[0]!.messageId).queue).toBe("orders");
  });

  it("creates declared queues with their parallelism, as sync does", async () => {
    const load = overlap();
    const job = defineJob({
      id: "import",
      input: z.object({ n: z.number() }),
      queue: "imports",
      run: load.run,
    });
    const jobs = createJobstash({
      app: "acme",
      jobs: [job],
      queues: [defineQueue({ name: "imports", parallelism: 2 })],
      logger: quietLogger(),
    });
    const t = harness(jobs, { now: START });
    await t.batch(Array.from({ length: 6 }, (_, n) => ({ id: "import" as const, input: { n } })));
    await t.drain();
    expect(t.runs("import")).toHaveLength(6);
    expect(load.peak()).toBe(2);
  });

  it("reports messages held by a paused queue as stuck instead of draining forever", async () => {
    const job = defineJob({ id: "held", input: z.object({ n: z.number() }), queue: "frozen", run: () => {} });
    const jobs = createJobstash({
      app: "acme",
      jobs: [job],
      queues: [defineQueue({ name: "frozen", paused: true })],
      logger: quietLogger(),
    });
    const t = harness(jobs, { now: START });
    const id = await t.trigger("held", { n: 1 });
    await expect(t.drain()).rejects.toMatchObject({
      code: "STUCK",
      message: expect.stringContaining('waiting in queue "frozen", which is paused'),
      pending: [
        {
          messageId: id,
          jobId: "held",
          state: "waiting",
          reason: 'waiting in queue "frozen", which is paused',
        },
      ],
    });
  });
  it("holds a bare jobs.trigger made at once until the declared queues exist", async () => {
    const job = defineJob({ id: "early", input: z.object({ n: z.number() }), queue: "gated", run: () => {} });
    // A schedule whose input takes a moment to check keeps the harness's setup busy.
    const slowCheck = z.object({ n: z.number() }).refine(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return true;
    });
    const cron = defineJob({
      id: "cron",
      input: slowCheck,
      schedules: [{ cron: "0 0 1 1 *", input: { n: 1 } }],
      run: () => {},
    });
    const jobs = createJobstash({
      app: "acme",
      jobs: [job, cron],
      queues: [defineQueue({ name: "gated", paused: true })],
      logger: quietLogger(),
    });
    const t = harness(jobs, { now: START });
    // No await in between: the harness is still creating what sync would.
    await jobs.trigger("early", { n: 1 });
    await expect(t.drain()).rejects.toMatchObject({ code: "STUCK" });
    expect(t.runs()).toEqual([]);
  });
});

describe("flow control", () => {
  it("never runs more than a key's parallelism at once", async () => {
    const load = overlap();
    const job = defineJob({
      id: "tenant-sync",
      input: z.object({ n: z.number() }),
      flowControl: { key: "tenant", parallelism: 3 },
      run: load.run,
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    for (let n = 0; n < 30; n++) await t.trigger("tenant-sync", { n });
    await t.advance(0);
    expect(t.runs("tenant-sync")).toHaveLength(30);
    expect(load.peak()).toBe(3);
  });

  it("starts at most `rate` runs per period", async () => {
    const { rate, periodSeconds, messages, startsPerPeriod } = RATE_LIMIT;
    const job = defineJob({
      id: "mail",
      input: z.object({ n: z.number() }),
      flowControl: { key: "mail-api", rate, period: periodSeconds },
      run: () => {},
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    for (let n = 0; n < messages; n++) await t.trigger("mail", { n });
    await t.drain();
    const starts = new Map<number, number>();
    for (const r of t.runs("mail")) starts.set(r.time.getTime(), (starts.get(r.time.getTime()) ?? 0) + 1);
    expect([...starts]).toEqual(startsPerPeriod.map((count, i) => [START + i * periodSeconds * 1000, count]));
  });

  it("holds a declared key to its pinned limits, whatever each message carries", async () => {
    const load = overlap();
    const job = defineJob({
      id: "export",
      input: z.object({ n: z.number() }),
      // Each message asks for 5; the declaration pins 1, as `jobstash sync` would.
      flowControl: () => ({ key: "warehouse", parallelism: 5 }),
      run: load.run,
    });
    const jobs = createJobstash({
      app: "acme",
      jobs: [job],
      flowControls: [defineFlowControl({ key: "warehouse", parallelism: 1 })],
      logger: quietLogger(),
    });
    const t = harness(jobs, { now: START });
    for (let n = 0; n < 6; n++) await t.trigger("export", { n });
    await t.drain();
    expect(t.runs("export")).toHaveLength(6);
    expect(load.peak()).toBe(1);
    expect(t.message(t.runs()[0]!.messageId).flowControlKey).toBe("warehouse");
  });
});
