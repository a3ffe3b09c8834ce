import { createJobstash, defineFlowControl, defineJob, defineQueue } from "jobstash";
import { type DesiredState, desiredState, hasDrift, planSync, type RemoteState } from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ownerLabel, ownershipId } from "../../src/sync/ownership.js";
import type { ScheduleSpec } from "../../src/sync/spec.js";

const bindings = { JOBSTASH_BASE_URL: "https://acme.dev/api/jobs" };

const report = defineJob({
  id: "report",
  input: z.object({ kind: z.string() }),
  queue: "reports",
  flowControl: { key: "mail-api", rate: 10, period: "1m" },
  schedules: [
    { id: "daily", cron: "0 9 * * *", tz: "Europe/Paris", input: { kind: "daily" } },
    { cron: "0 0 1 * *", input: { kind: "monthly" } },
  ],
  run: () => undefined,
});
const cleanup = defineJob({
  id: "cleanup",
  input: z.object({}),
  retries: 5,
  schedules: [{ cron: "*/15 * * * *", input: {} }],
  run: () => undefined,
  onFailure: () => undefined,
});

const jobs = createJobstash({
  app: "acme",
  jobs: [report, cleanup],
  queues: [defineQueue({ name: "reports", parallelism: 2 })],
  flowControls: [defineFlowControl({ key: "mail-api", rate: 10, period: 60 })],
});

async function desired(env = "production"): Promise<DesiredState> {
  return desiredState(jobs, { env, bindings });
}

/** QStash after a perfect apply of `d`: what a second run would read. */
function applied(d: DesiredState): RemoteState {
  const plan = planSync(d, { schedules: [], queues: [], flowControls: [] });
  return {
    schedules: plan.schedules.map((c) => ({ id: c.id, spec: c.spec! })),
    queues: d.queues.map((q) => ({ name: q.name, parallelism: q.parallelism, paused: q.paused, lag: 0 })),
    flowControls: d.flowControls.map(({ declaredBy: _, ...fc }) => fc),
  };
}

function withSchedule(
  remote: RemoteState,
  id: string,
  change: (s: ScheduleSpec) => ScheduleSpec,
): RemoteState {
  return {
    ...remote,
    schedules: remote.schedules.map((s) => (s.id === id ? { id, spec: change(s.spec) } : s)),
  };
}

describe("planSync", () => {
  it("creates everything on an empty account, with deterministic ids and the ownership label", async () => {
    const d = await desired();
    const plan = planSync(d, { schedules: [], queues: [], flowControls: [] });
    expect(plan.schedules.map((s) => [s.action, s.id])).toEqual([
      ["create", "acme.production._jobstash"],
      ["create", "acme.production.cleanup.0"],
      ["create", "acme.production.report.1"],
      ["create", "acme.production.report.daily"],
    ]);
    expect(plan.queues.map((q) => [q.action, q.name])).toEqual([["create", "reports"]]);
    expect(plan.flowControls.map((f) => [f.action, f.key, f.desired?.rate, f.desired?.period])).toEqual([
      ["create", "mail-api", 10, 60],
    ]);
    const daily = plan.schedules.find((s) => s.id.endsWith("report.daily"))!.spec!;
    expect(daily).toMatchObject({
      destination: "https://acme.dev/api/jobs/report",
      cron: "0 9 * * *",
      tz: "Europe/Paris",
      body: '{"kind":"daily"}',
      retries: 3,
      queue: "reports",
      flowControl: { key: "mail-api", rate: 10, period: 60 },
      labels: ["report", ownerLabel("acme", "production")],
      headers: {
        "content-type": "application/json",
        "jobstash-max-retries": "3",
        "jobstash-label": "report",
      },
    });
    const clean = plan.schedules.find((s) => s.id.endsWith("cleanup.0"))!.spec!;
    expect(clean.failureCallback).toBe("https://acme.dev/api/jobs/cleanup?callback=failure");
    expect(clean.retries).toBe(5);
    expect(plan.summary).toMatchObject({ create: 6, update: 0, delete: 0, unchanged: 0 });
    expect(hasDrift(plan)).toBe(true);
  });

  it("finds nothing to do after a perfect apply", async () => {
    const d = await desired();
    const plan = planSync(d, applied(d));
    expect(plan.summary).toMatchObject({ create: 0, update: 0, delete: 0, unchanged: 6, foreign: 0 });
    expect(hasDrift(plan)).toBe(false);
  });

  it("keeps environments apart: the same code in staging owns none of production's schedules", async () => {
    const plan = planSync(await desired("staging"), applied(await desired()));
    expect(plan.summary.delete).toBe(0);
    expect(plan.foreign.schedules).toHaveLength(4);
    expect(plan.schedules.every((s) => s.id.startsWith("acme.staging."))).toBe(true);
  });

  const fieldChanges: [string, Partial<ScheduleSpec>][] = [
    ["destination", { destination: "https://old.acme.dev/api/jobs/report" }],
    ["cron", { cron: "0 8 * * *" }],
    ["tz", { tz: "UTC" }],
    ["method", { method: "PUT" }],
    ["body", { body: '{"kind":"weekly"}' }],
    ["headers", { headers: { "content-type": "application/json" } }],
    ["retries", { retries: 1 }],
    ["retryDelay", { retryDelay: "1000" }],
    ["timeout", { timeout: 30 }],
    ["delay", { delay: 10 }],
    ["callback", { callback: "https://acme.dev/api/jobs/report?callback=success" }],
    ["failureCallback", { failureCallback: "https://x.dev/f" }],
    ["queue", { queue: undefined }],
    ["flowControl", { flowControl: { key: "mail-api", rate: 5, period: 60 } }],
    ["labels", { labels: ["report"] }],
    ["paused", { paused: true }],
  ];
  it.each(fieldChanges)(
    "updates exactly one schedule when %s differs, naming the field",
    async (field, patch) => {
      const d = await desired();
      const id = "acme.production.report.daily";
      // Labels: dropping ours would make it foreign if it were not a desired id; desired ids always win.
      const plan = planSync(
        d,
        withSchedule(applied(d), id, (s) => ({ ...s, ...patch })),
      );
      const updates = plan.schedules.filter((s) => s.action === "update");
      expect(updates.map((s) => s.id)).toEqual([id]);
      expect(updates[0]!.diff.map((f) => f.field)).toEqual([field]);
      expect(plan.summary.update).toBe(1);
    },
  );

  it("judges fields QStash does not report by the fingerprint header", async () => {
    const d = await desired();
    const id = "acme.production.report.daily";
    const unreported = (remote: RemoteState): RemoteState => ({
      ...remote,
      schedules: remote.schedules.map((s) =>
        s.id === id ? { ...s, unreported: ["timeout"], spec: { ...s.spec, timeout: undefined } } : s,
      ),
    });
    // Same code: the fingerprint matches, so no update although timeout reads back as absent.
    expect(planSync(d, unreported(applied(d))).summary.update).toBe(0);
    // The code's timeout changed: only the fingerprint can tell.
    const before = await desiredState(
      createJobstash({
        app: "acme",
        jobs: [defineJob({ ...report.definition, timeout: "10s" }), cleanup],
        queues: [defineQueue({ name: "reports", parallelism: 2 })],
        flowControls: [defineFlowControl({ key: "mail-api", rate: 10, period: 60 })],
      }),
      { env: "production", bindings },
    );
    const plan = planSync(d, unreported(applied(before)));
    const update = plan.schedules.find((s) => s.id === id)!;
    expect(update.action).toBe("update");
    expect(update.diff).toEqual([{ field: "timeout", from: "(not reported by QStash)", to: undefined }]);
  });

  it("ignores label order and header name case", async () => {
    const d = await desired();
    const id = "acme.production.report.daily";
    const plan = planSync(
      d,
      withSchedule(applied(d), id, (s) => ({ ...s, labels: [...s.labels].reverse() })),
    );
    expect(plan.summary.update).toBe(0);
  });

  it("plans deletes only for schedules with our prefix and our label", async () => {
    const d = await desired();
    const remote = applied(d);
    const orphan = { ...remote.schedules[1]!.spec };
    const state: RemoteState = {
      ...remote,
      schedules: [
        ...remote.schedules,
        { id: "acme.production.gone.0", spec: orphan },
        // Our prefix, someone else's label (e.g. created by hand to look like ours).
        { id: "acme.production.manual", spec: { ...orphan, labels: ["manual"] } },
        // Another env of the same app.
        { id: "acme.staging.gone.0", spec: { ...orphan, labels: [ownerLabel("acme", "staging")] } },
        // App "acme.production" env "x": shares the id prefix text but not the label.
        { id: "acme.production.x.job.0", spec: { ...orphan, labels: [ownerLabel("acme.production", "x")] } },
        { id: "scd_handmade", spec: { ...orphan, labels: [] } },
      ],
    };
    const plan = planSync(d, state);
    expect(plan.schedules.filter((s) => s.action === "delete").map((s) => s.id)).toEqual([
      "acme.production.gone.0",
    ]);
    expect([...plan.foreign.schedules].sort()).toEqual([
      "acme.production.manual",
      "acme.production.x.job.0",
      "acme.staging.gone.0",
      "scd_handmade",
    ]);
    expect(plan.summary.foreign).toBe(4);
  });

  it("updates a queue's parallelism and pause, creates missing ones, and adopts a declared queue", async () => {
    const d = await desired();
    const remote = applied(d);
    const plan = planSync(d, {
      ...remote,
      queues: [{ name: "reports", parallelism: 1, paused: true, lag: 3 }],
    });
    expect(plan.queues).toMatchObject([
      {
        action: "update",
        name: "reports",
        diff: [
          { field: "parallelism", from: 1, to: 2 },
          { field: "paused", from: true, to: false },
        ],
      },
    ]);
  });

  it("deletes only queues and keys its ownership record lists; others are foreign", async () => {
    const d = await desired();
    const remote = applied(d);
    const recordId = ownershipId("acme", "production");
    const state: RemoteState = {
      schedules: remote.schedules.map((s) =>
        s.id === recordId
          ? {
              id: s.id,
              spec: {
                ...s.spec,
                body: JSON.stringify({ queues: ["reports", "old"], flowControls: ["mail-api", "old-key"] }),
              },
            }
          : s,
      ),
      queues: [
        ...remote.queues,
        { name: "old", parallelism: 1, paused: false, lag: 2 },
        { name: "theirs", parallelism: 1, paused: false, lag: 0 },
      ],
      flowControls: [
        ...remote.flowControls,
        { key: "old-key", parallelism: 3 },
        { key: "their-key", rate: 1, period: 1 },
      ],
    };
    const plan = planSync(d, state);
    expect(plan.queues.filter((q) => q.action === "delete").map((q) => [q.name, q.remote?.lag])).toEqual([
      ["old", 2],
    ]);
    expect(plan.flowControls.filter((f) => f.action === "delete").map((f) => f.key)).toEqual(["old-key"]);
    expect(plan.foreign).toMatchObject({ queues: ["theirs"], flowControls: ["their-key"] });
    // The record keeps listing what is still to delete until the delete succeeds.
    expect(plan.ownership.owned).toEqual({
      queues: ["old", "reports"],
      flowControls: ["mail-api", "old-key"],
    });
  });

  it("reports a declared queue another app or env owns as a conflict and leaves it alone", async () => {
    const d = await desired();
    const remote = applied(d);
    const theirs = ownershipId("other", "production");
    const record = remote.schedules.find((s) => s.id === ownershipId("acme", "production"))!;
    const plan = planSync(d, {
      ...remote,
      schedules: [
        ...remote.schedules.filter((s) => s !== record),
        {
          id: theirs,
          spec: {
            ...record.spec,
            labels: [ownerLabel("other", "production")],
            body: JSON.stringify({ queues: ["reports"], flowControls: [] }),
          },
        },
      ],
    });
    expect(plan.queues).toEqual([]);
    expect(plan.conflicts).toEqual([
      expect.stringContaining('queue "reports" (defineQueue("reports")) is owned by other.production'),
    ]);
    expect(hasDrift(plan)).toBe(true);
  });

  it("reports a declared flow-control key another app owns as a conflict", async () => {
    const d = await desired();
    const remote = applied(d);
    const record = remote.schedules.find((s) => s.id === ownershipId("acme", "production"))!;
    const plan = planSync(d, {
      ...remote,
      schedules: [
        ...remote.schedules.filter((s) => s !== record),
        {
          id: ownershipId("billing", "production"),
          spec: {
            ...record.spec,
            labels: [ownerLabel("billing", "production")],
            body: JSON.stringify({ queues: [], flowControls: ["mail-api"] }),
          },
        },
      ],
    });
    expect(plan.flowControls).toEqual([]);
    expect(plan.conflicts).toEqual([
      'flow-control key "mail-api" (defineFlowControl("mail-api"), job "report") is owned by billing.production; left unchanged',
    ]);
  });

  it("pins a changed limit and flags a key no longer pinned", async () => {
    const d = await desired();
    const remote = applied(d);
    const plan = planSync(d, { ...remote, flowControls: [{ key: "mail-api", rate: 10, period: 1 }] });
    expect(plan.flowControls).toMatchObject([
      { action: "update", key: "mail-api", diff: [{ field: "period", from: 1, to: 60 }] },
    ]);
    const unpinned = planSync(d, { ...remote, flowControls: [] });
    expect(unpinned.flowControls).toMatchObject([{ action: "create", key: "mail-api" }]);
  });

  it("waits for a declared key QStash does not know: no change, no drift, still claimed", async () => {
    const d = await desired();
    const remote = applied(d);
    const unknown = planSync(d, { ...remote, flowControls: [], knownFlowControlKeys: ["someone-else"] });
    expect(unknown.flowControls).toMatchObject([{ action: "waiting", key: "mail-api", diff: [] }]);
    expect(unknown.summary).toMatchObject({ create: 0, update: 0, waiting: 1, unchanged: 5 });
    expect(unknown.ownership.owned.flowControls).toEqual(["mail-api"]);
    expect(hasDrift(unknown)).toBe(false);
    // Known but not pinned (a message used it): pinned now.
    const seen = planSync(d, { ...remote, flowControls: [], knownFlowControlKeys: ["mail-api"] });
    expect(seen.flowControls).toMatchObject([{ action: "create", key: "mail-api" }]);
    expect(hasDrift(seen)).toBe(true);
  });

  it("removes the ownership record (a prune delete) once nothing is owned", async () => {
    const bare = createJobstash({ app: "acme", jobs: [cleanup] });
    const d = await desiredState(bare, { env: "production", bindings });
    const remote = applied(await desired());
    const withoutOld: RemoteState = { ...remote, queues: [], flowControls: [] };
    const plan = planSync(d, withoutOld);
    expect(
      plan.schedules
        .filter((s) => s.action === "delete")
        .map((s) => s.id)
        .sort(),
    ).toEqual(["acme.production._jobstash", "acme.production.report.1", "acme.production.report.daily"]);
  });
});
