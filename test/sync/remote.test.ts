import { loadRemote, type SyncClient } from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { withRetry } from "../../src/sync/retry.js";

function fakeClient(options: { listFlowControl: boolean }) {
  const calls: string[] = [];
  const keys: Record<string, object> = {
    "kept-key": {
      flowControlKey: "kept-key",
      parallelismMax: 2,
      isPinnedParallelism: true,
      rateMax: 0,
      isPinnedRate: false,
    },
    "old-key": {
      flowControlKey: "old-key",
      parallelismMax: 0,
      rateMax: 5,
      ratePeriod: 60,
      isPinnedParallelism: false,
      isPinnedRate: true,
    },
    "unpinned-key": {
      flowControlKey: "unpinned-key",
      parallelismMax: 4,
      isPinnedParallelism: false,
      isPinnedRate: false,
    },
  };
  const client = {
    schedules: {
      list: async () => {
        calls.push("GET /v2/schedules");
        return [
          {
            scheduleId: "acme.production._jobstash",
            cron: "0 0 1 1 *",
            destination: "https://acme.dev/api/jobs/_jobstash",
            body: JSON.stringify({ queues: [], flowControls: ["old-key"] }),
            labels: ["jobstash.acme.production"],
            isPaused: true,
            retries: 0,
          },
          {
            scheduleId: "acme.production.report.daily",
            cron: "CRON_TZ=Europe/Paris  0 9 * * * ",
            destination: "https://acme.dev/api/jobs/report",
            header: { "Content-Type": ["application/json"], "Jobstash-Label": ["report"] },
            bodyBase64: Buffer.from('{"kind":"daily"}').toString("base64"),
            retries: 2,
            delay: 10,
            flowControlKey: "kept-key",
            parallelism: 2,
            label: "report",
          },
        ];
      },
    },
    queue: () => ({
      list: async () => {
        calls.push("GET /v2/queues");
        return [{ name: "q", parallelism: 3, paused: false, lag: 1 }];
      },
    }),
    flowControl: {
      get: async (key: string) => {
        calls.push(`GET /v2/flowControl/${key}`);
        const found = keys[key];
        if (!found) throw Object.assign(new Error("not found"), { status: 404 });
        return found;
      },
    },
    http: {
      request: async () => {
        calls.push("GET /v2/flowControl");
        if (!options.listFlowControl) throw Object.assign(new Error("not found"), { status: 404 });
        return Object.values(keys);
      },
    },
  } as unknown as SyncClient;
  return { client, calls };
}

describe("loadRemote", () => {
  it("normalises schedules, queues and pinned keys with one list call per kind", async () => {
    const { client, calls } = fakeClient({ listFlowControl: true });
    const remote = await loadRemote(client);
    expect(calls.sort()).toEqual(["GET /v2/flowControl", "GET /v2/queues", "GET /v2/schedules"]);
    expect(remote.schedules[1]).toEqual({
      id: "acme.production.report.daily",
      // The fake, like the SDK's Schedule type, has no timeout field.
      unreported: ["timeout"],
      spec: {
        destination: "https://acme.dev/api/jobs/report",
        cron: "0 9 * * *",
        tz: "Europe/Paris",
        method: "POST",
        body: '{"kind":"daily"}',
        headers: { "content-type": "application/json", "jobstash-label": "report" },
        retries: 2,
        retryDelay: undefined,
        timeout: undefined,
        delay: 10,
        callback: undefined,
        failureCallback: undefined,
        queue: undefined,
        flowControl: { key: "kept-key", parallelism: 2 },
        labels: ["report"],
        paused: false,
      },
    });
    expect(remote.queues).toEqual([{ name: "q", parallelism: 3, paused: false, lag: 1 }]);
    // Only pinned limits count: a key QStash merely saw in messages is nobody's config.
    expect(remote.flowControls).toEqual([
      { key: "kept-key", parallelism: 2 },
      { key: "old-key", rate: 5, period: 60 },
    ]);
    // ...while every key it knows may be pinned; one it does not know waits for a message.
    expect(remote.knownFlowControlKeys).toEqual(["kept-key", "old-key", "unpinned-key"]);
  });

  it("without a list endpoint, looks up declared keys and the keys ownership records list", async () => {
    const { client, calls } = fakeClient({ listFlowControl: false });
    const remote = await loadRemote(client, { flowControlKeys: ["kept-key", "new-key"] });
    expect(calls.filter((c) => c.startsWith("GET /v2/flowControl/")).sort()).toEqual([
      "GET /v2/flowControl/kept-key",
      "GET /v2/flowControl/new-key",
      "GET /v2/flowControl/old-key",
    ]);
    expect(remote.flowControls.map((f) => f.key).sort()).toEqual(["kept-key", "old-key"]);
    expect([...remote.knownFlowControlKeys!].sort()).toEqual(["kept-key", "old-key"]);
  });
});

describe("withRetry", () => {
  it("retries 429, 5xx and network errors, not other 4xx", async () => {
    for (const [error, attempts] of [
      [Object.assign(new Error("rate"), { status: 429, reset: "0" }), 3],
      [Object.assign(new Error("boom"), { status: 502 }), 3],
      [new TypeError("fetch failed"), 3],
      [Object.assign(new Error("bad"), { status: 400 }), 1],
    ] as const) {
      let n = 0;
      await expect(
        withRetry(
          async () => {
            n++;
            throw error;
          },
          { retries: 2, minRetryDelay: 1 },
        ),
      ).rejects.toBe(error);
      expect(n).toBe(attempts);
    }
  });

  it("waits the rate-limit reset QStash gives", async () => {
    let n = 0;
    const started = Date.now();
    await withRetry(
      async () => {
        if (n++ === 0)
          throw Object.assign(new Error("rate"), { status: 429, reset: String(Date.now() + 300) });
        return "ok";
      },
      { minRetryDelay: 1 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
