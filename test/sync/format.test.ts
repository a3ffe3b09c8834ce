import { createJobstash, defineFlowControl, defineJob, defineQueue } from "jobstash";
import { desiredState, formatPlan, planSync, planToJson } from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { dstWarnings, nextRuns } from "../../src/sync/dst.js";

const now = new Date("2026-11-21T06:00:00Z");

async function plan() {
  const job = defineJob({
    id: "digest",
    input: z.object({}),
    queue: "q",
    schedules: [
      { id: "night", cron: "30 2 * * *", tz: "Europe/Paris", input: {} },
      { id: "often", cron: "*/5 * * * *", input: {} },
    ],
    run: () => undefined,
  });
  const jobs = createJobstash({
    app: "acme",
    jobs: [job],
    queues: [defineQueue({ name: "q", parallelism: 2 })],
  });
  const desired = await desiredState(jobs, {
    env: "production",
    bindings: { JOBSTASH_BASE_URL: "https://acme.dev/api/jobs" },
  });
  return planSync(desired, {
    schedules: [],
    queues: [{ name: "old", parallelism: 1, paused: false, lag: 0 }],
    flowControls: [],
  });
}

describe("formatPlan", () => {
  it("prints one line per change, next fire times in the schedule's zone, DST warnings and a summary", async () => {
    const text = formatPlan(await plan(), { color: false, now });
    expect(text).toContain(
      '+ acme.production.digest.night  cron "30 2 * * *" Europe/Paris → https://acme.dev/api/jobs/digest',
    );
    expect(text).toContain(
      "next: Sun 2026-11-22 02:30 GMT+1, Mon 2026-11-23 02:30 GMT+1, Tue 2026-11-24 02:30 GMT+1",
    );
    expect(text).toContain(
      "next: Sat 2026-11-21 06:05 UTC, Sat 2026-11-21 06:10 UTC, Sat 2026-11-21 06:15 UTC",
    );
    expect(text).toContain(
      "acme.production.digest.night: 02:30 on 2027-03-28 does not exist in Europe/Paris (DST gap)",
    );
    expect(text).toContain(
      "acme.production.digest.night: 02:30 on 2027-10-31 happens twice in Europe/Paris (DST overlap)",
    );
    expect(text).not.toMatch(/digest\.often: .*DST/);
    expect(text).toContain("+ q  parallelism 2");
    expect(text).toContain("Foreign (not owned by acme/production, left alone): 1 queue(s)\n  queues: old");
    expect(text).toMatch(/Plan: 4 to create, 0 to update, 0 to delete, 0 unchanged, 1 foreign\.$/);
    expect(text).not.toContain("\u001b[");
  });

  it("shows a key QStash has not seen yet as waiting, apart from drift", async () => {
    const jobs = createJobstash({
      app: "acme",
      jobs: [],
      flowControls: [defineFlowControl({ key: "mail-api", parallelism: 2 })],
    });
    const desired = await desiredState(jobs, {
      env: "production",
      bindings: { JOBSTASH_BASE_URL: "https://acme.dev/api/jobs" },
    });
    const waiting = planSync(desired, {
      schedules: [],
      queues: [],
      flowControls: [],
      knownFlowControlKeys: [],
    });
    const text = formatPlan(waiting, { color: false, now });
    expect(text).toContain(
      "… mail-api  waiting for its first message: QStash knows a key only once a message used it; the next sync then pins parallelism 2",
    );
    expect(text).toMatch(
      /Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged, 1 waiting for a first message, 0 foreign\.$/,
    );
    expect(planToJson(waiting, { now })).toMatchObject({ summary: { waiting: 1 } });
  });

  it("colours only when asked", async () => {
    expect(formatPlan(await plan(), { color: true, now })).toContain("\u001b[32m");
  });

  it("gives machines the same plan with next runs and warnings", async () => {
    const json = JSON.parse(JSON.stringify(planToJson(await plan(), { now }))) as Record<string, unknown>;
    expect(json.drift).toBe(true);
    expect((json.nextRuns as Record<string, string[]>)["acme.production.digest.night"]).toEqual([
      "2026-11-22T01:30:00.000Z",
      "2026-11-23T01:30:00.000Z",
      "2026-11-24T01:30:00.000Z",
    ]);
    expect(json.warnings).toHaveLength(2);
  });
});

describe("cron helpers", () => {
  it.each([
    ["30 2 * * *", "Europe/Paris", 2],
    ["0 2 * * 0", "Europe/Paris", 2], // both transitions are on Sundays
    ["0 2 * * 1", "Europe/Paris", 0],
    ["0 9 * * *", "Europe/Paris", 0],
    ["30 1 * * *", "America/New_York", 1], // 01:30 repeats in November; the March gap is 02:00-03:00
    ["30 2 * * *", "America/New_York", 1],
    ["*/10 * * * *", "Europe/Paris", 0], // hourly and finer: losing one of many is expected
    ["30 2 * * *", "UTC", 0],
    ["30 2 * * *", "Asia/Tokyo", 0],
  ])("%s in %s: %i DST warning(s)", (cron, tz, count) => {
    expect(dstWarnings(cron, tz, now)).toHaveLength(count);
  });

  it("computes fire times in the zone, across a DST change", () => {
    const march = new Date("2027-03-27T12:00:00Z");
    expect(nextRuns("0 9 * * *", "Europe/Paris", march, 2).map((d) => d.toISOString())).toEqual([
      "2027-03-28T07:00:00.000Z",
      "2027-03-29T07:00:00.000Z",
    ]);
  });
});
