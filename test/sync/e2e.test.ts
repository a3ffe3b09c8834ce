import { Client } from "@upstash/qstash";
import { type AnyJob, createJobstash, defineFlowControl, defineJob, defineQueue } from "jobstash";
import { DEFAULT_DEV_USER } from "jobstash/dev-server";
import { SyncApplyError, type SyncOptions, syncJobstash } from "jobstash/sync";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { nextRuns } from "../../src/sync/dst.js";
import { ownerLabel } from "../../src/sync/ownership.js";
import { type SyncStack, startStack } from "./helpers";

let stack: SyncStack;
let client: Client;
beforeEach(async () => {
  stack = await startStack();
  client = new Client({ baseUrl: stack.qstashUrl, token: DEFAULT_DEV_USER.token, retry: false });
});
afterEach(async () => {
  await stack.close();
});

interface Seen {
  runs: { jobId: string; input: unknown; scheduleId: string | undefined }[];
}

function defineJobs(seen: Seen, options: { reportCron?: string; withCleanup?: boolean } = {}): AnyJob[] {
  const report = defineJob({
    id: "report",
    input: z.object({ kind: z.string() }),
    queue: "reports",
    retries: 2,
    timeout: "30s",
    flowControl: { key: "mail-api", rate: 10, period: "1m" },
    schedules: [
      { id: "daily", cron: options.reportCron ?? "0 9 * * *", tz: "Europe/Paris", input: { kind: "daily" } },
      { id: "hourly", cron: "5 * * * *", input: { kind: "hourly" } },
    ],
    run(input, ctx) {
      seen.runs.push({ jobId: "report", input, scheduleId: ctx.scheduleId });
      return { ok: true };
    },
    onSuccess: () => undefined,
  });
  const cleanup = defineJob({
    id: "cleanup",
    input: z.object({ days: z.number() }),
    schedules: [{ cron: "*/10 * * * *", input: { days: 7 } }],
    run(input, ctx) {
      seen.runs.push({ jobId: "cleanup", input, scheduleId: ctx.scheduleId });
    },
  });
  return options.withCleanup === false ? [report] : [report, cleanup];
}

function registry(
  seen: Seen,
  options: { reportCron?: string; withCleanup?: boolean; queues?: boolean; app?: string } = {},
) {
  return createJobstash({
    app: options.app ?? "acme",
    jobs: defineJobs(seen, options),
    env: stack.bindings,
    queues: options.queues === false ? [] : [defineQueue({ name: "reports", parallelism: 2 })],
    flowControls: [
      defineFlowControl({ key: "mail-api", rate: 10, period: 60 }),
      defineFlowControl({ key: "smtp", parallelism: 3 }),
    ],
  });
}

const sync = (jobs: ReturnType<typeof registry>, options: SyncOptions = {}) =>
  syncJobstash(jobs, {
    env: "development",
    bindings: stack.bindings,
    client,
    minRetryDelay: 1,
    ...options,
  } as SyncOptions);

/**
 * The dev server only knows a flow-control key once a message used it, and answers 404 to a
 * pin before that (so sync waits for it). Seed the keys the way production would see them.
 */
async function seedKeys(keys: string[]) {
  for (const key of keys) {
    const { messageId } = await client.publishJSON({
      url: `${stack.baseUrl}/seed`,
      body: {},
      delay: "1d",
      flowControl: { key, parallelism: 1 },
    });
    await client.messages.cancel(messageId);
  }
}

describe("jobstash sync against the dev server", () => {
  it("creates everything on the first run and makes zero writes on the second", async () => {
    const jobs = registry({ runs: [] });
    await seedKeys(["mail-api", "smtp"]);
    stack.reset();
    const first = await sync(jobs);
    expect(first.report).toMatchObject({ failed: [], skipped: [] });
    expect(first.report!.created.sort()).toEqual([
      "flow-control key mail-api",
      "flow-control key smtp",
      "queue reports",
      "schedule acme.development._jobstash",
      "schedule acme.development.cleanup.0",
      "schedule acme.development.report.daily",
      "schedule acme.development.report.hourly",
    ]);

    const schedules = await client.schedules.list();
    const daily = schedules.find((s) => s.scheduleId === "acme.development.report.daily")!;
    expect(daily).toMatchObject({
      cron: "CRON_TZ=Europe/Paris 0 9 * * *",
      destination: `${stack.baseUrl}/report`,
      retries: 2,
      queueName: "reports",
      flowControlKey: "mail-api",
      rate: 10,
      period: 60,
      callback: `${stack.baseUrl}/report?callback=success`,
      body: '{"kind":"daily"}',
      labels: ["report", ownerLabel("acme", "development")],
    });
    expect((await client.queue({ queueName: "reports" }).get()).parallelism).toBe(2);
    expect(await client.flowControl.get("smtp")).toMatchObject({
      parallelismMax: 3,
      isPinnedParallelism: true,
    });
    expect(await client.flowControl.get("mail-api")).toMatchObject({
      rateMax: 10,
      ratePeriod: 60,
      isPinnedRate: true,
    });
    // The ownership record exists and is paused, so it never fires.
    expect(schedules.find((s) => s.scheduleId === "acme.development._jobstash")).toMatchObject({
      isPaused: true,
    });

    stack.reset();
    const second = await sync(registry({ runs: [] }));
    expect(second.drift).toBe(false);
    expect(second.report).toMatchObject({ created: [], updated: [], deleted: [], writes: 0 });
    expect(stack.writes()).toEqual([]);
    const reads = stack.requests
      .slice(-3)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(reads).toEqual(["GET /v2/flowControl", "GET /v2/queues", "GET /v2/schedules"]);
  });

  it("updates exactly one schedule when one cron changes", async () => {
    await seedKeys(["mail-api", "smtp"]);
    await sync(registry({ runs: [] }));
    stack.reset();
    const result = await sync(registry({ runs: [] }, { reportCron: "30 9 * * *" }));
    expect(result.plan.summary).toMatchObject({ update: 1, create: 0, delete: 0 });
    expect(result.plan.schedules.find((s) => s.action === "update")).toMatchObject({
      id: "acme.development.report.daily",
      diff: [{ field: "cron", from: "0 9 * * *", to: "30 9 * * *" }],
    });
    expect(stack.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `POST /v2/schedules/${stack.baseUrl}/report`,
    ]);
  });

  it("deletes a removed job's schedules only with prune, and never a foreign schedule", async () => {
    await seedKeys(["mail-api", "smtp"]);
    await sync(registry({ runs: [] }));
    const { scheduleId: handMade } = await client.schedules.create({
      destination: `${stack.baseUrl}/x`,
      cron: "0 0 * * *",
    });
    await client.schedules.create({
      scheduleId: "acme.staging.cleanup.0",
      destination: `${stack.baseUrl}/cleanup`,
      cron: "0 0 * * *",
      label: ownerLabel("acme", "staging"),
    });
    await client.schedules.create({
      scheduleId: "acme.development.lookalike",
      destination: `${stack.baseUrl}/x`,
      cron: "0 0 * * *",
    });
    await client.queue({ queueName: "theirs" }).upsert({ parallelism: 1 });

    const withoutCleanup = registry({ runs: [] }, { withCleanup: false });
    const kept = await sync(withoutCleanup);
    expect(kept.report!.skipped).toEqual([
      { name: "schedule acme.development.cleanup.0", reason: "not declared in code; pass --prune to delete" },
    ]);
    expect((await client.schedules.list()).map((s) => s.scheduleId)).toContain("acme.development.cleanup.0");
    expect([...kept.plan.foreign.schedules].sort()).toEqual(
      [handMade, "acme.development.lookalike", "acme.staging.cleanup.0"].sort(),
    );

    const pruned = await sync(withoutCleanup, { prune: true });
    expect(pruned.report!.deleted).toEqual(["schedule acme.development.cleanup.0"]);
    const ids = (await client.schedules.list()).map((s) => s.scheduleId);
    expect(ids).not.toContain("acme.development.cleanup.0");
    expect(ids).toEqual(
      expect.arrayContaining([handMade, "acme.staging.cleanup.0", "acme.development.lookalike"]),
    );
    expect((await client.queue().list()).map((q) => q.name).sort()).toEqual(["reports", "theirs"]);
  });

  it("needs --force to delete an owned queue that still holds messages", async () => {
    await seedKeys(["mail-api", "smtp"]);
    await sync(registry({ runs: [] }));
    await client.queue({ queueName: "reports" }).pause();
    await client
      .queue({ queueName: "reports" })
      .enqueueJSON({ url: `${stack.baseUrl}/report`, body: { kind: "x" } });
    // Drop the queue from the code: the job no longer names it either.
    const bare = createJobstash({ app: "acme", jobs: [] as AnyJob[], env: stack.bindings });
    const refused = await sync(bare, { prune: true });
    expect(refused.report!.skipped).toEqual([
      { name: "queue reports", reason: "holds 1 undelivered message(s); pass --force to delete it anyway" },
    ]);
    expect((await client.queue().list()).map((q) => q.name)).toEqual(["reports"]);
    // The record still lists the queue, so a later --force run may delete it.
    const forced = await sync(bare, { prune: true, force: true });
    expect(forced.report!.deleted).toContain("queue reports");
    expect(await client.queue().list()).toEqual([]);
    expect((await client.schedules.list()).map((s) => s.scheduleId)).toEqual([]);
    stack.reset();
    await sync(bare, { prune: true, force: true });
    expect(stack.writes()).toEqual([]);
  });

  it("retries injected 429 and 500 answers and converges", async () => {
    await seedKeys(["mail-api", "smtp"]);
    // Every other write fails twice (429, then 503) before it is let through; keyed per write
    // (schedule writes share a path per job, so the schedule id header tells them apart), so
    // interleaving under concurrency cannot make one change fail more often than that.
    const attempts = new Map<string, number>();
    stack.inject(({ method, path, headers }) => {
      if (method === "GET") return undefined;
      const key = `${method} ${path} ${headers["upstash-schedule-id"] ?? ""}`;
      // The first of each pair of distinct writes fails twice; the second goes straight through.
      if (!attempts.has(key)) attempts.set(key, attempts.size % 2 === 0 ? 0 : 2);
      const n = attempts.get(key)! + 1;
      attempts.set(key, n);
      if (n === 1) return { status: 429, headers: { "Burst-RateLimit-Reset": "0" } };
      if (n === 2) return { status: 503 };
      return undefined;
    });
    const result = await sync(registry({ runs: [] }));
    expect(result.report!.failed).toEqual([]);
    expect(result.report!.retried).toBeGreaterThan(0);
    expect(stack.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(stack.requests.filter((r) => r.status === 503).length).toBeGreaterThan(0);
    stack.inject(undefined);
    stack.reset();
    const again = await sync(registry({ runs: [] }));
    expect(again.drift).toBe(false);
    expect(stack.writes()).toEqual([]);
  });

  it("reports an interrupted apply, and a re-run converges", async () => {
    await seedKeys(["mail-api", "smtp"]);
    stack.inject(({ method, path }) =>
      method === "POST" && path.includes("/report") ? { status: 500 } : undefined,
    );
    const error = await sync(registry({ runs: [] }), { retries: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncApplyError);
    const report = (error as SyncApplyError).report;
    expect(report.failed.map((f) => f.name).sort()).toEqual([
      "schedule acme.development.report.daily",
      "schedule acme.development.report.hourly",
    ]);
    expect(report.created).toContain("schedule acme.development.cleanup.0");
    stack.inject(undefined);
    const rerun = await sync(registry({ runs: [] }));
    expect(rerun.report!.created.sort()).toEqual([
      "schedule acme.development.report.daily",
      "schedule acme.development.report.hourly",
    ]);
    stack.reset();
    await sync(registry({ runs: [] }));
    expect(stack.writes()).toEqual([]);
  });

  it("pins changed limits, unpins a limit the code dropped, and unpins a removed key only with prune", async () => {
    await seedKeys(["k"]);
    const withKey = (fc: Parameters<typeof defineFlowControl>[0] | undefined) =>
      createJobstash({
        app: "acme",
        jobs: [] as AnyJob[],
        env: stack.bindings,
        flowControls: fc ? [defineFlowControl(fc)] : [],
      });
    await sync(withKey({ key: "k", parallelism: 2, rate: 5, period: 10 }));
    expect(await client.flowControl.get("k")).toMatchObject({
      parallelismMax: 2,
      isPinnedParallelism: true,
      rateMax: 5,
      ratePeriod: 10,
      isPinnedRate: true,
    });
    const changed = await sync(withKey({ key: "k", rate: 7, period: 10 }));
    expect(changed.plan.flowControls[0]).toMatchObject({
      action: "update",
      diff: [
        { field: "parallelism", from: 2, to: undefined },
        { field: "rate", from: 5, to: 7 },
      ],
    });
    expect(await client.flowControl.get("k")).toMatchObject({
      rateMax: 7,
      isPinnedRate: true,
      isPinnedParallelism: false,
    });
    const kept = await sync(withKey(undefined));
    expect(kept.report!.skipped.map((s) => s.name)).toEqual(["flow-control key k"]);
    expect(await client.flowControl.get("k")).toMatchObject({ isPinnedRate: true });
    const pruned = await sync(withKey(undefined), { prune: true });
    expect(pruned.report!.deleted.sort()).toEqual([
      "flow-control key k",
      "schedule acme.development._jobstash",
    ]);
    expect(await client.flowControl.get("k")).toMatchObject({
      isPinnedRate: false,
      isPinnedParallelism: false,
    });
    stack.reset();
    await sync(withKey(undefined), { prune: true });
    expect(stack.writes()).toEqual([]);
  });

  it("waits for a key QStash has not seen, with no write and no drift, and pins it after its first message", async () => {
    const first = await sync(registry({ runs: [] }));
    expect(first.plan.flowControls.map((f) => [f.action, f.key])).toEqual([
      ["waiting", "mail-api"],
      ["waiting", "smtp"],
    ]);
    expect(first.plan.summary).toMatchObject({ waiting: 2 });
    expect(first.report).toMatchObject({ failed: [], skipped: [] });
    // The record claims the keys already, so pinning them later changes nothing else.
    expect(first.report!.created).toContain("schedule acme.development._jobstash");

    stack.reset();
    const again = await sync(registry({ runs: [] }));
    expect(again.drift).toBe(false);
    expect(again.report).toMatchObject({ writes: 0, skipped: [], failed: [] });
    expect(stack.writes()).toEqual([]);

    await seedKeys(["smtp"]);
    stack.reset();
    const pinned = await sync(registry({ runs: [] }));
    expect(pinned.drift).toBe(true);
    expect(pinned.report!.created).toEqual(["flow-control key smtp"]);
    expect(stack.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      "POST /v2/flowControl/smtp/pin?parallelism=3",
    ]);
    expect(await client.flowControl.get("smtp")).toMatchObject({
      parallelismMax: 3,
      isPinnedParallelism: true,
    });
    expect(pinned.plan.flowControls.find((f) => f.key === "mail-api")?.action).toBe("waiting");

    stack.reset();
    expect((await sync(registry({ runs: [] }))).drift).toBe(false);
    expect(stack.writes()).toEqual([]);
  });

  it("creates schedules that fire and deliver to the running receiver", async () => {
    const seen: Seen = { runs: [] };
    const jobs = registry(seen);
    stack.serveJobs(jobs);
    await seedKeys(["mail-api", "smtp"]);
    await sync(jobs);
    // The Paris one fires at 09:00 Paris time: the first such time from the (real) start.
    const start = stack.clock.now();
    const next = nextRuns("0 9 * * *", "Europe/Paris", new Date(start), 1)[0]!.getTime();
    expect((await client.schedules.get("acme.development.report.daily")).nextScheduleTime).toBe(next);
    await stack.clock.advanceTo(start + 61 * 60_000);
    expect(seen.runs).toEqual(
      expect.arrayContaining([
        { jobId: "report", input: { kind: "hourly" }, scheduleId: "acme.development.report.hourly" },
        { jobId: "cleanup", input: { days: 7 }, scheduleId: "acme.development.cleanup.0" },
      ]),
    );
    // Past the next 09:00 but short of the one after it: exactly one daily run.
    await stack.clock.advanceTo(Math.max(next, start + 61 * 60_000) + 1_000);
    expect(seen.runs.filter((r) => r.scheduleId === "acme.development.report.daily")).toEqual([
      { jobId: "report", input: { kind: "daily" }, scheduleId: "acme.development.report.daily" },
    ]);
  });
});
