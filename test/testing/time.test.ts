import { createJobstash, defineJob } from "jobstash";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { NEW_YORK_DST } from "../helpers/qstash-semantics.js";
import { harness, quietLogger } from "./helpers.js";

// Delays, deduplication, cancellation and cron schedules on the virtual clock.
const START = Date.parse("2026-03-29T00:30:00Z");
const input = z.object({ n: z.number() });
const ran: number[] = [];
const echo = defineJob({
  id: "echo",
  input,
  run(input) {
    ran.push(input.n);
    return input.n;
  },
});
const registry = () => createJobstash({ app: "acme", jobs: [echo], logger: quietLogger() });

describe("time", () => {
  it("runs nothing behind the test's back: a trigger runs at the next advance or drain", async () => {
    const t = harness(registry(), { now: START });
    const id = await t.trigger("echo", { n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.runs()).toEqual([]);
    expect(t.message(id).state).toBe("active");
    const { runs } = await t.advance(0);
    expect(runs.map((r) => [r.input, r.time])).toEqual([[{ n: 1 }, new Date(START)]]);
    expect(t.now()).toEqual(new Date(START));
  });

  it("holds a delayed message until its time, and notBefore wins over delay", async () => {
    const t = harness(registry(), { now: START });
    const delayed = await t.trigger("echo", { n: 1 }, { delay: "10m" });
    await t.trigger("echo", { n: 2 }, { delay: "1m", notBefore: new Date(START + 20 * 60_000) });
    expect(t.message(delayed)).toMatchObject({ state: "delayed", dueAt: new Date(START + 600_000) });
    await t.advance(599.999);
    expect(t.runs()).toEqual([]);
    await t.advance("1ms");
    expect(t.runs().map((r) => [r.input, r.time])).toEqual([[{ n: 1 }, new Date(START + 600_000)]]);
    await t.advance("10m");
    expect(t.runs().map((r) => r.time)).toEqual([new Date(START + 600_000), new Date(START + 1_200_000)]);
    expect(t.now()).toEqual(new Date(START + 1_200_000));
  });

  it("applies a job's own delay, and drain moves the clock to each due time", async () => {
    const later = defineJob({ id: "later", input, delay: "2h", run: () => {} });
    const t = harness(createJobstash({ app: "acme", jobs: [later], logger: quietLogger() }), { now: START });
    await t.trigger("later", { n: 1 });
    const summary = await t.drain();
    expect(summary.runs.map((r) => r.time)).toEqual([new Date(START + 7_200_000)]);
    expect(summary.to).toEqual(new Date(START + 7_200_000));
  });

  it("deduplicates by id and by content within QStash's 10-minute window", async () => {
    ran.length = 0;
    const t = harness(registry(), { now: START });
    const a = await t.trigger("echo", { n: 1 }, { deduplicationId: "order-1" });
    expect(await t.trigger("echo", { n: 1 }, { deduplicationId: "order-1" })).toBe(a);
    const c = await t.trigger("echo", { n: 2 }, { contentBasedDeduplication: true });
    expect(await t.trigger("echo", { n: 2 }, { contentBasedDeduplication: true })).toBe(c);
    expect(await t.trigger("echo", { n: 3 }, { contentBasedDeduplication: true })).not.toBe(c);
    await t.advance("9m59s");
    expect(await t.trigger("echo", { n: 1 }, { deduplicationId: "order-1" })).toBe(a);
    await t.advance("1s");
    expect(await t.trigger("echo", { n: 1 }, { deduplicationId: "order-1" })).not.toBe(a);
    await t.drain();
    expect(ran).toEqual([1, 2, 3, 1]);
  });

  it("cancels a pending message, which then never runs", async () => {
    const t = harness(registry(), { now: START });
    const id = await t.trigger("echo", { n: 1 }, { delay: "1h" });
    t.cancel(id);
    expect(t.message(id).state).toBe("cancelled");
    await t.drain();
    await t.advance("2h");
    expect(t.runs()).toEqual([]);
    expect(() => t.cancel(id)).toThrow(
      expect.objectContaining({
        code: "UNKNOWN_MESSAGE",
        message: expect.stringContaining("already cancelled"),
      }),
    );
  });
});

describe("schedules", () => {
  it("creates every job's schedules as jobstash sync does, ticking in their zone across DST", async () => {
    const daily = defineJob({
      id: "daily-digest",
      input: z.object({ list: z.string() }),
      schedules: [{ id: "morning", cron: NEW_YORK_DST.cron, tz: NEW_YORK_DST.tz, input: { list: "all" } }],
      run: (_input, ctx) => ctx.scheduleId,
    });
    const t = harness(createJobstash({ app: "acme", jobs: [daily], logger: quietLogger() }), {
      now: NEW_YORK_DST.start,
    });
    await t.advance("4d");
    const runs = t.runs("daily-digest");
    expect(runs.map((r) => r.time.toISOString().slice(0, 13))).toEqual(NEW_YORK_DST.ticks);
    // The id sync gives it (<app>.<env>.<job>.<schedule>), with the schedule's input.
    expect(runs.every((r) => r.scheduleId === "acme.test.daily-digest.morning")).toBe(true);
    expect(runs[0]).toMatchObject({ input: { list: "all" }, output: "acme.test.daily-digest.morning" });
  });

  it("shifts a run that falls in a DST gap (02:30 in Paris on 2026-03-29 does not exist)", async () => {
    // `jobstash sync` warns about such a cron; this is what the local engine does with it.
    const nightly = defineJob({
      id: "nightly",
      input: z.undefined(),
      schedules: [{ cron: "30 2 * * *", tz: "Europe/Paris" }],
      run: () => {},
    });
    const t = harness(createJobstash({ app: "acme", jobs: [nightly], logger: quietLogger() }), {
      now: "2026-03-28T00:00:00Z",
    });
    await t.advance("3d");
    expect(t.runs("nightly").map((r) => r.time.toISOString())).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:30:00.000Z", // 03:30 CEST: the clock jumped from 02:00 to 03:00
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  it("does not keep drain going on its own, but ticks while messages are pending", async () => {
    const minutely = defineJob({
      id: "minutely",
      input: z.undefined(),
      schedules: [{ cron: "* * * * *" }],
      run: () => {},
    });
    const t = harness(createJobstash({ app: "acme", jobs: [minutely, echo], logger: quietLogger() }), {
      now: START,
    });
    await expect(t.drain()).resolves.toMatchObject({ runs: [] });
    await t.trigger("echo", { n: 1 }, { delay: "3m" });
    const { runs, to } = await t.drain();
    // Both are due at 00:33, and concurrent deliveries have no order: compare as sets.
    expect(runs.map((r) => r.jobId).sort()).toEqual(["echo", "minutely", "minutely", "minutely"]);
    expect(to).toEqual(new Date(START + 180_000));
  });
});
