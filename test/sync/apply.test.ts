import { createJobstash, defineJob, defineQueue } from "jobstash";
import {
  applySync,
  desiredState,
  ownershipId,
  planSync,
  type RemoteState,
  type SyncClient,
} from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { z } from "zod";

/** Records every write in order and how many were in flight at once. */
function recordingClient() {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = (name: string) => async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    calls.push(name);
    inFlight--;
  };
  const client = {
    schedules: {
      create: (req: { scheduleId: string }) => write(`create ${req.scheduleId}`)(),
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
  return { client, calls, max: () => maxInFlight };
}

const many = defineJob({
  id: "many",
  input: z.object({ n: z.number() }),
  schedules: Array.from({ length: 30 }, (_, n) => ({ id: `s${n}`, cron: `${n} * * * *`, input: { n } })),
  run: () => undefined,
});
const bindings = { JOBSTASH_BASE_URL: "https://acme.dev/api/jobs" };

async function planWithOrphans() {
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
          body: JSON.stringify({ jobstash: 1, queues: ["old", "q"], flowControls: [] }),
        },
      },
    ],
    queues: [{ name: "old", parallelism: 1, paused: false, lag: 0 }],
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
});
