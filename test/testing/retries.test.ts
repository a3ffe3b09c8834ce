import {
  createJobstash,
  defineJob,
  InvalidPayloadError,
  type JobContext,
  NonRetryableError,
  RetryAfterError,
} from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DEFAULT_BACKOFF_SECONDS, RETRY_DELAY_EXPRESSION } from "../helpers/qstash-semantics.js";
import { gapsInSeconds, harness, quietLogger } from "./helpers.js";

// Retries, callbacks and timeouts through the real receiver, on the virtual clock: the same
// promises test/dev-server/lifecycle.test.ts checks against the dev server over HTTP.
const START = "2026-03-29T00:30:00Z";
const input = z.object({ n: z.number() });

describe("retries", () => {
  it("retries with QStash's backoff, then files the message in the DLQ and runs onFailure once", async () => {
    const failures: { message: string; status: number; dlqId?: string; ctx: JobContext }[] = [];
    const job = defineJob({
      id: "always-fails",
      input,
      retries: 5,
      run() {
        throw new Error("mail server down");
      },
      onFailure({ error, dlqId, ctx }) {
        failures.push({ message: error.message, status: error.status, dlqId, ctx });
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    const id = await t.trigger("always-fails", { n: 1 });
    await t.drain();

    const runs = t.runs("always-fails");
    expect(runs.map((r) => r.outcome)).toEqual(["retry", "retry", "retry", "retry", "retry", "failed"]);
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(gapsInSeconds(runs.map((r) => r.time))).toEqual(DEFAULT_BACKOFF_SECONDS.map(Math.round));
    expect(runs[0]).toMatchObject({
      messageId: id,
      jobId: "always-fails",
      input: { n: 1 },
      time: new Date(START),
      status: 500,
      error: { status: 500, code: "JOB_FAILED", message: "Error: mail server down" },
      retryAt: runs[1]!.time,
    });

    const [entry] = t.dlq("always-fails");
    expect(entry).toMatchObject({
      messageId: id,
      input: { n: 1 },
      attempts: 6,
      status: 500,
      reason: "Error: mail server down",
      time: runs[5]!.time,
    });
    // onFailure ran once, after the last attempt, with a real ctx.
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      message: "Error: mail server down",
      status: 500,
      dlqId: entry!.dlqId,
    });
    expect(failures[0]!.ctx).toMatchObject({
      jobId: "always-fails",
      messageId: id,
      attempt: 6,
      maxRetries: 5,
    });
    expect(t.message(id)).toMatchObject({ state: "failed", dlqId: entry!.dlqId, retried: 5, maxRetries: 5 });
    expect(t.message(id).callbacks.map((c) => [c.hook, c.outcome])).toEqual([["onFailure", "success"]]);
  });

  it("runs a job that fails twice then succeeds, and onSuccess once, after the attempt that succeeded", async () => {
    const successes: { output: unknown; attempt: number }[] = [];
    let calls = 0;
    const job = defineJob({
      id: "flaky",
      input,
      run(input, ctx) {
        if (++calls <= 2) throw new Error(`attempt ${ctx.attempt} failed`);
        return { doubled: input.n * 2 };
      },
      onSuccess({ output, ctx }) {
        successes.push({ output, attempt: ctx.attempt });
      },
      onFailure() {
        throw new Error("onFailure must not run");
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    const id = await t.trigger("flaky", { n: 21 });
    const summary = await t.drain();

    expect(summary.runs.map((r) => [r.attempt, r.outcome, r.status])).toEqual([
      [1, "retry", 500],
      [2, "retry", 500],
      [3, "success", 200],
    ]);
    expect(summary.runs[2]!.output).toEqual({ doubled: 42 });
    expect(summary.from).toEqual(new Date(START));
    expect(summary.to).toEqual(summary.runs[2]!.time);
    // QStash calls the success callback after every attempt; only the last one's reaches the hook.
    expect(successes).toEqual([{ output: { doubled: 42 }, attempt: 3 }]);
    expect(summary.hooks.map((h) => [h.hook, h.sourceMessageId, h.outcome])).toEqual([
      ["onSuccess", id, "success"],
    ]);
    expect(t.dlq()).toEqual([]);
    expect(t.message(id).state).toBe("delivered");
  });

  it("waits what a retryDelay expression says", async () => {
    const job = defineJob({
      id: "expr",
      input,
      retries: 3,
      retryDelay: RETRY_DELAY_EXPRESSION.expression,
      run() {
        throw new Error("no");
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    await t.trigger("expr", { n: 1 });
    await t.drain();
    const times = t.runs("expr").map((r) => r.time.getTime());
    expect(times.slice(1).map((time, i) => time - times[i]!)).toEqual(RETRY_DELAY_EXPRESSION.waitsMs);
  });

  it("retries after the time a RetryAfterError asks for, instead of the backoff", async () => {
    let calls = 0;
    const job = defineJob({
      id: "rate-limited",
      input,
      run() {
        if (++calls === 1) throw new RetryAfterError("mail API rate limit", "90s");
        return "sent";
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    await t.trigger("rate-limited", { n: 1 });
    await t.advance("89s");
    expect(t.runs().map((r) => [r.status, r.error?.code, r.outcome])).toEqual([
      [429, "RETRY_AFTER", "retry"],
    ]);
    await t.advance("1s");
    expect(t.runs().map((r) => r.outcome)).toEqual(["retry", "success"]);
    expect(t.runs()[1]!.time).toEqual(new Date(Date.parse(START) + 90_000));
  });

  it("sends a NonRetryableError straight to the DLQ, with onFailure and no retry", async () => {
    const failures: unknown[] = [];
    const job = defineJob({
      id: "bounce",
      input: z.object({ email: z.string() }),
      retries: 3,
      run(input) {
        throw new NonRetryableError(`${input.email} bounced`);
      },
      onSuccess() {
        throw new Error("onSuccess must not run");
      },
      onFailure({ input, error, dlqId }) {
        failures.push({ input, error, dlqId });
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    await t.trigger("bounce", { email: "x@bounce.test" });
    await t.drain();
    expect(t.runs("bounce").map((r) => [r.status, r.outcome, r.error?.code])).toEqual([
      [489, "failed", "NON_RETRYABLE"],
    ]);
    const dlq = t.dlq("bounce");
    expect(dlq).toEqual([
      expect.objectContaining({
        input: { email: "x@bounce.test" },
        status: 489,
        reason: "x@bounce.test bounced",
      }),
    ]);
    expect(failures).toEqual([
      {
        input: { email: "x@bounce.test" },
        error: { status: 489, message: "x@bounce.test bounced", body: expect.any(String) },
        dlqId: dlq[0]!.dlqId,
      },
    ]);
  });

  it("validates input on trigger as jobs.trigger does, before anything is accepted", async () => {
    const job = defineJob({ id: "typed", input, run: () => {} });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }));
    await expect(t.trigger("typed", { n: "one" } as never)).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(
      t.batch([
        { id: "typed", input: { n: 1 } },
        { id: "typed", input: { n: "two" } as never },
      ]),
    ).rejects.toBeInstanceOf(InvalidPayloadError);
    await t.drain();
    expect(t.runs()).toEqual([]);
    expect(await t.batch([{ id: "typed", input: { n: 1 } }])).toHaveLength(1);
  });

  it("retries a hook that throws, like a job, and files its callback in the DLQ in the end", async () => {
    let hookCalls = 0;
    const job = defineJob({
      id: "bad-hook",
      input,
      retries: 1,
      run: () => "done",
      onSuccess() {
        hookCalls++;
        throw new Error("hook broke");
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    const id = await t.trigger("bad-hook", { n: 1 });
    await t.drain();
    expect(hookCalls).toBe(2);
    expect(t.runs().map((r) => r.outcome)).toEqual(["success"]);
    expect(t.message(id).callbacks.map((c) => [c.hook, c.attempt, c.outcome])).toEqual([
      ["onSuccess", 1, "retry"],
      ["onSuccess", 2, "failed"],
    ]);
    expect(t.dlq()).toEqual([
      expect.objectContaining({
        hook: "onSuccess",
        jobId: "bad-hook",
        input: { n: 1 },
        reason: "Error: hook broke",
      }),
    ]);
  });
});

describe("timeouts", () => {
  it("fails an attempt that outlives the job's timeout, and retries it", async () => {
    const aborted: boolean[] = [];
    let calls = 0;
    const job = defineJob({
      id: "slow",
      input,
      timeout: "200ms",
      retries: 1,
      async run(_input, ctx) {
        if (++calls > 1) return "fast this time";
        // Gives up when its signal fires, as a job passing ctx.signal to fetch would.
        await new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            aborted.push(true);
            reject(ctx.signal.reason);
          });
        });
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), { now: START });
    await t.trigger("slow", { n: 1 });
    await t.drain();
    const [first, second] = t.runs("slow");
    expect(first).toMatchObject({ outcome: "retry", error: { message: expect.stringMatching(/timed out/) } });
    expect(second).toMatchObject({ outcome: "success", output: "fast this time" });
    expect(aborted).toEqual([true]);
  });

  it.each([
    ["the job's own timeout", { timeout: "200ms" }, {}],
    ["a timeout passed to trigger, in place of the job's", {}, { timeout: "200ms" }],
  ] as const)(
    "applies %s to a job that ignores its signal, not the harness's default",
    async (_what, own, call) => {
      const job = defineJob({ id: "deaf", input, retries: 0, ...own, run: () => new Promise(() => {}) });
      const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), {
        attemptTimeout: "5s",
      });
      const started = Date.now();
      await t.trigger("deaf", { n: 1 }, call);
      // A failed attempt, not a NEVER_SETTLED error: the timeout applied, in the receiver.
      await t.drain();
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(t.runs("deaf")).toEqual([
        expect.objectContaining({
          outcome: "failed",
          error: expect.objectContaining({ code: "TIMEOUT", message: 'job "deaf" timed out after 200 ms' }),
        }),
      ]);
    },
  );

  it("rejects advance and drain with NEVER_SETTLED when a job without a timeout never returns", async () => {
    const job = defineJob({
      id: "stuck",
      input,
      retries: 0,
      run: () => new Promise(() => {}),
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }), {
      attemptTimeout: "100ms",
    });
    const id = await t.trigger("stuck", { n: 1 });
    const started = Date.now();
    await expect(t.drain()).rejects.toMatchObject({
      name: "TestHarnessError",
      code: "NEVER_SETTLED",
      message: expect.stringContaining(`job "stuck" (message ${id}, attempt 1) did not settle within 100 ms`),
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The attempt counts as timed out, as QStash's HTTP timeout would have it, and the harness goes on.
    expect(t.runs("stuck")).toEqual([
      expect.objectContaining({
        status: 0,
        outcome: "failed",
        error: { status: 0, code: "NO_RESPONSE", message: "request timed out after 100ms" },
      }),
    ]);
    await expect(t.drain()).resolves.toMatchObject({ runs: [] });
  });

  it("waits for work a job hands to ctx.waitUntil before a step ends", async () => {
    const done: string[] = [];
    const job = defineJob({
      id: "background",
      input,
      run(input, ctx) {
        ctx.waitUntil(
          new Promise((resolve) => setTimeout(resolve, 20)).then(() => done.push(`bg ${input.n}`)),
        );
        return "answered";
      },
    });
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: quietLogger() }));
    await t.trigger("background", { n: 1 });
    await t.advance(0);
    expect(done).toEqual(["bg 1"]);
  });
});

describe("the harness's logger", () => {
  it("takes the receiver's line per failed attempt and the job's ctx.logger, in place of the registry's", async () => {
    const job = defineJob({
      id: "flaky",
      input,
      retries: 1,
      run(_input, ctx) {
        ctx.logger.info(`attempt ${ctx.attempt}`);
        throw new Error("not yet");
      },
    });
    const registryLogger = quietLogger();
    const harnessLogger = quietLogger();
    const t = harness(createJobstash({ app: "acme", jobs: [job], logger: registryLogger }), {
      now: START,
      logger: harnessLogger,
    });
    await t.trigger("flaky", { n: 1 });
    await t.drain();
    expect(registryLogger.lines).toEqual([]);
    expect(harnessLogger.lines.filter((line) => line.startsWith("info"))).toEqual([
      expect.stringMatching(/^info \[jobstash flaky msg_\w+\] attempt 1$/),
      expect.stringMatching(/^info \[jobstash flaky msg_\w+\] attempt 2$/),
    ]);
    expect(harnessLogger.lines.filter((line) => line.startsWith("error"))).toEqual([
      expect.stringMatching(/: 500 JOB_FAILED: job threw Error: not yet/),
      expect.stringMatching(/: 500 JOB_FAILED: job threw Error: not yet/),
    ]);
  });
});
