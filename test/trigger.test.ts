import { ConfigError, createJobstash, defineJob, InvalidPayloadError } from "jobstash";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startRecorder } from "./helpers/recorder.js";

let qstash: Awaited<ReturnType<typeof startRecorder>>;
beforeAll(async () => {
  qstash = await startRecorder();
});
afterAll(() => qstash.close());
beforeEach(() => {
  qstash.requests.length = 0;
});

const BASE = "https://app.example.com/api/jobs";

const sendEmail = defineJob({
  id: "send-email",
  input: z.object({ to: z.string().email(), tenant: z.string() }),
  retries: 5,
  retryDelay: "pow(2, retried) * 1000",
  timeout: "30s",
  delay: "1m",
  flowControl: (input) => ({ key: `tenant:${input.tenant}`, parallelism: 2, rate: 10, period: "1m" }),
  run: () => ({ sent: true }),
  onSuccess() {},
  onFailure() {},
});
const report = defineJob({
  id: "report",
  input: z.object({ day: z.string() }),
  queue: "reports",
  run: () => undefined,
});
const plain = defineJob({ id: "plain", input: z.object({ n: z.number() }), run: () => undefined });

function registry() {
  return createJobstash({
    app: "acme",
    jobs: [sendEmail, report, plain],
    baseUrl: BASE,
    qstash: { url: qstash.url, token: "test-token" },
  });
}

describe("trigger", () => {
  it("publishes the input as JSON with the job's delivery settings", async () => {
    const id = await registry().trigger("send-email", { to: "a@b.co", tenant: "t1" });
    expect(id).toMatch(/^msg_/);
    expect(qstash.requests).toHaveLength(1);
    const [request] = qstash.requests;
    expect(request!.method).toBe("POST");
    expect(request!.path).toBe(`/v2/publish/${BASE}/send-email`);
    expect(JSON.parse(request!.body)).toEqual({ to: "a@b.co", tenant: "t1" });
    expect(request!.headers).toMatchObject({
      authorization: "Bearer test-token",
      "content-type": "application/json",
      "upstash-retries": "5",
      "upstash-retry-delay": "pow(2, retried) * 1000",
      "upstash-timeout": "30s",
      "upstash-delay": "60s",
      "upstash-label": "send-email",
      "upstash-flow-control-key": "tenant:t1",
      "upstash-flow-control-value": "parallelism=2, rate=10, period=60s",
      "upstash-callback": `${BASE}/send-email?callback=success`,
      "upstash-failure-callback": `${BASE}/send-email?callback=failure`,
      "upstash-forward-jobstash-max-retries": "5",
      "upstash-forward-jobstash-label": "send-email",
    });
  });

  it("per-call options override the job's", async () => {
    const notBefore = new Date(Date.now() + 3_600_000);
    await registry().trigger(
      "send-email",
      { to: "a@b.co", tenant: "t1" },
      {
        retries: 0,
        label: "urgent",
        timeout: 5,
        notBefore,
        deduplicationId: "welcome-a@b.co",
        flowControl: { key: "global", rate: 100 },
        headers: { "x-trace": "abc" },
      },
    );
    const headers = qstash.requests[0]!.headers;
    expect(headers).toMatchObject({
      "upstash-retries": "0",
      "upstash-label": "urgent",
      "upstash-timeout": "5s",
      "upstash-not-before": String(Math.floor(notBefore.getTime() / 1000)),
      "upstash-deduplication-id": "welcome-a@b.co",
      "upstash-flow-control-key": "global",
      "upstash-flow-control-value": "rate=100",
      "upstash-forward-x-trace": "abc",
      "upstash-forward-jobstash-max-retries": "0",
      "upstash-forward-jobstash-label": "urgent",
    });
  });

  it("sets callback URLs only for jobs with hooks, and default retries explicitly", async () => {
    await registry().trigger("plain", { n: 1 }, { contentBasedDeduplication: true });
    const headers = qstash.requests[0]!.headers;
    expect(headers["upstash-callback"]).toBeUndefined();
    expect(headers["upstash-failure-callback"]).toBeUndefined();
    expect(headers["upstash-retries"]).toBe("3");
    expect(headers["upstash-content-based-deduplication"]).toBe("true");
    expect(headers["upstash-delay"]).toBeUndefined();
  });

  it("enqueues when the job names a queue, or the call does", async () => {
    const jobs = registry();
    await jobs.trigger("report", { day: "2026-11-21" });
    await jobs.trigger("plain", { n: 1 }, { queue: "adhoc" });
    expect(qstash.requests.map((r) => r.path)).toEqual([
      `/v2/enqueue/reports/${BASE}/report`,
      `/v2/enqueue/adhoc/${BASE}/plain`,
    ]);
  });

  it("rejects a bad input before any network call, listing the issues", async () => {
    const error = await registry()
      .trigger("send-email", { to: "not-an-email", tenant: 1 } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).issues.map((i) => i.path?.[0])).toEqual(["to", "tenant"]);
    expect((error as Error).message).toMatch(
      /trigger\("send-email"\): the input does not match[\s\S]*- to: /,
    );
    expect(qstash.requests).toHaveLength(0);
  });

  it("names what to fix for an unknown job, a missing token or a missing base URL", async () => {
    await expect(registry().trigger("nope" as never, {} as never)).rejects.toThrow(
      /unknown job "nope"; known jobs: send-email, report, plain/,
    );
    const noToken = createJobstash({ app: "acme", jobs: [plain], baseUrl: BASE, env: {} });
    await expect(noToken.trigger("plain", { n: 1 })).rejects.toThrow(/set QSTASH_TOKEN/);
    const noBase = createJobstash({
      app: "acme",
      jobs: [plain],
      qstash: { url: qstash.url, token: "t" },
      env: {},
    });
    await expect(noBase.trigger("plain", { n: 1 })).rejects.toThrow(ConfigError);
    await expect(noBase.trigger("plain", { n: 1 })).rejects.toThrow(/set JOBSTASH_BASE_URL/);
    await expect(registry().trigger("plain", { n: 1 }, { retries: -1 })).rejects.toThrow(
      /retries must be a whole number/,
    );
    expect(qstash.requests).toHaveLength(0);
  });

  it("reads the token, QStash URL and base URL from env lazily, per call", async () => {
    const env: Record<string, string | undefined> = {};
    const jobs = createJobstash({ app: "acme", jobs: [plain], env });
    await expect(jobs.trigger("plain", { n: 1 })).rejects.toThrow(ConfigError);
    Object.assign(env, {
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: "from-env",
      JOBSTASH_BASE_URL: "https://env.example.com/jobs/",
    });
    await jobs.trigger("plain", { n: 1 });
    expect(qstash.requests[0]!.headers.authorization).toBe("Bearer from-env");
    expect(qstash.requests[0]!.path).toBe("/v2/publish/https://env.example.com/jobs/plain");
    expect(jobs.url("plain")).toBe("https://env.example.com/jobs/plain");
  });
});

describe("batch", () => {
  it("publishes many items in chunks and returns the ids in order", async () => {
    const items = Array.from({ length: 230 }, (_, n) => ({ id: "plain" as const, input: { n } }));
    const ids = await registry().batch([
      ...items,
      { id: "report", input: { day: "mon" }, options: { delay: "5s" } },
    ]);
    expect(ids).toHaveLength(231);
    expect(new Set(ids).size).toBe(231);
    expect(qstash.requests.map((r) => r.path)).toEqual(["/v2/batch", "/v2/batch", "/v2/batch"]);
    const sent = qstash.requests.flatMap(
      (r) =>
        JSON.parse(r.body) as {
          destination: string;
          body: string;
          queue?: string;
          headers: Record<string, string>;
        }[],
    );
    expect(sent.map((m) => JSON.parse(m.body).n).slice(0, 230)).toEqual(items.map((i) => i.input.n));
    expect(sent.at(-1)).toMatchObject({
      destination: `${BASE}/report`,
      queue: "reports",
      headers: expect.objectContaining({ "upstash-delay": "5s", "upstash-label": "report" }),
    });
  });

  it("validates every item before sending any", async () => {
    await expect(
      registry().batch([
        { id: "plain", input: { n: 1 } },
        { id: "plain", input: { n: "two" } as never },
      ]),
    ).rejects.toThrow(/batch\[1\] \("plain"\)/);
    expect(qstash.requests).toHaveLength(0);
  });
});
