import { createJobstash, defineJob, defineQueue } from "jobstash";
import {
  applySync,
  desiredState,
  planSync,
  type RemoteState,
  SyncApplyError,
  type SyncClient,
} from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ownershipId } from "../../src/sync/ownership.js";

/** Records every write in order and how many were in flight at once. */
function recordingClient(failing: readonly string[] = []) {
  const calls: string[] = [];
  const bodies = new Map<string, string | undefined>();
  let inFlight = 0;
  let maxInFlight = 0;
  const write = (name: string) => async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    inFlight--;
    // A 400 is not retried: the change fails at once.
    if (failing.includes(name)) throw Object.assign(new Error(`${name} refused`), { status: 400 });
    calls.push(name);
  };
  const client = {
    schedules: {
      create: (req: { scheduleId: string; body?: string }) => {
        bodies.set(req.scheduleId, req.body);
        return write(`create ${req.scheduleId}`)();
      },
      delete: (id: string) => write(`delete ${id}`)(),
      pause: ({ schedule }: { schedule: string }) => write(`pause ${schedule}`)(),
      resume: ({ schedule }: { schedule: string }) => write(`resume ${schedule}`)(),
    },
    queue: ({ queueName }: { queueName: string }) => ({
      upsert: () => write(`upsert ${queueName}`)(),
      delete: () => write(`delete queue ${queueName}`)(),
    }),
    flowControl: {
      pin: (key: string) => write(`pin ${key}`)(),
      unpin: (key: string) => write(`unpin ${key}`)(),
    },
  } as unknown as SyncClient;
  return { client, calls, bodies, max: () => maxInFlight };
}

const many = defineJob({
  id: "many",
  input: z.object({ n: z.number() }),
  schedules: Array.from({ length: 30 }, (_, n) => ({ id: `s${n}`, cron: `${n} * * * *`, input: { n } })),
  run: () => undefined,
});
const bindings = { JOBSTASH_BASE_URL: "https://acme.dev/api/jobs" };

async function planWithOrphans(orphanQueues: readonly string[] = ["old"]) {
  const jobs = createJobstash({ app: "acme", jobs: [many], queues: [defineQueue({ name: "q" })] });
  const desired = await desiredState(jobs, { env: "production", bindings });
  const fresh = planSync(desired, { schedules: [], queues: [], flowControls: [] });
  const recordSpec = fresh.schedules.find((c) => c.id === ownershipId("acme", "production"))!.spec!;
  const orphan = { ...fresh.schedules.find((c) => c.jobId === "many")!.spec! };
  const remote: RemoteState = {
    schedules: [
      { id: "acme.production.gone.0", spec: orphan },
      {
        id: ownershipId("acme", "production"),
        spec: {
          ...recordSpec,
          body: JSON.stringify({ jobstash: 1, queues: [...orphanQueues, "q"], flowControls: [] }),
        },
      },
    ],
    queues: orphanQueues.map((name) => ({ name, parallelism: 1, paused: false, lag: 0 })),
    flowControls: [],
  };
  return planSync(desired, remote);
}

describe("applySync", () => {
  it("bounds concurrency, writes before deletes, and the ownership record last", async () => {
    const { client, calls, max } = recordingClient();
    const progress: number[] = [];
    const report = await applySync(await planWithOrphans(), {
      client,
      prune: true,
      concurrency: 4,
      onProgress: ({ done, total }) => progress.push(done / total),
    });
    expect(max()).toBe(4);
    const firstDelete = calls.findIndex((c) => c.startsWith("delete"));
    const lastWrite = calls.findLastIndex(
      (c) => c.startsWith("create acme.production.many") || c.startsWith("upsert"),
    );
    expect(lastWrite).toBeLessThan(firstDelete);
    // The record drops "old" only after its delete succeeded: rewritten, then paused, at the end.
    expect(calls.slice(-2)).toEqual([
      `create ${ownershipId("acme", "production")}`,
      `pause ${ownershipId("acme", "production")}`,
    ]);
    expect(report.deleted.sort()).toEqual(["queue old", "schedule acme.production.gone.0"]);
    expect(report.created).toHaveLength(31);
    expect(progress.at(-1)).toBe(1);
  });

  it("without prune deletes nothing and keeps the record listing what it still owns", async () => {
    const { client, calls } = recordingClient();
    const plan = await planWithOrphans();
    const report = await applySync(plan, { client });
    expect(calls.filter((c) => c.startsWith("delete"))).toEqual([]);
    expect(report.skipped.map((s) => s.name).sort()).toEqual([
      "queue old",
      "schedule acme.production.gone.0",
    ]);
    expect(plan.ownership.owned.queues).toEqual(["old", "q"]);
    // The record already lists old and q: nothing to rewrite.
    expect(calls.filter((c) => c.includes("_jobstash"))).toEqual([]);
  });

  it("keeps a queue whose delete failed in the record, so the next run deletes it", async () => {
    const { client, bodies } = recordingClient(["delete queue stuck"]);
    const error = await applySync(await planWithOrphans(["old", "stuck"]), { client, prune: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SyncApplyError);
    expect((error as SyncApplyError).report.failed).toEqual([
      { name: "queue stuck", error: "delete queue stuck refused" },
    ]);
    expect((error as SyncApplyError).report.deleted).toContain("queue old");
    const record = JSON.parse(bodies.get(ownershipId("acme", "production"))!);
    expect(record.queues).toEqual(["q", "stuck"]);
  });
});
