import { ConfigError, createHandler, createJobstash, defineJob, InvalidPayloadError } from "jobstash";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { KEYS } from "./helpers/keys.js";
import { recorderForFile } from "./helpers/recorder.js";
import { delivery } from "./helpers/sign.js";

const qstash = recorderForFile();

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
    // The job's own timeout is in the receiver's code: only a call's travels.
    expect(request!.headers["upstash-forward-jobstash-timeout"]).toBeUndefined();
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
      // The call's timeout reaches the receiver too, in milliseconds.
      "upstash-forward-jobstash-timeout": "5000",
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

describe("withEnv", () => {
  afterEach(() => vi.unstubAllEnvs());

  // Where a call's settings came from, as trigger sent them.
  const sentWith = () =>
    qstash.requests.map((r) => [r.headers.authorization, r.path.replace(/^\/v2\/publish\//, "")]);
  const settings = (name: string) => ({
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: `${name}-token`,
    JOBSTASH_BASE_URL: `https://${name}.example.com/jobs`,
  });

  it("reads the bindings before the env option and process.env; the registry still reads those", async () => {
    for (const [name, value] of Object.entries(settings("process"))) vi.stubEnv(name, value);
    const withOption = createJobstash({ app: "acme", jobs: [plain], env: settings("option") });
    const fromProcess = createJobstash({ app: "acme", jobs: [plain] });
    const bindings = settings("bindings");

    await withOption.withEnv(bindings).trigger("plain", { n: 1 });
    await withOption.trigger("plain", { n: 2 });
    await fromProcess.withEnv(bindings).trigger("plain", { n: 3 });
    await fromProcess.trigger("plain", { n: 4 });
    expect(sentWith()).toEqual([
      ["Bearer bindings-token", "https://bindings.example.com/jobs/plain"],
      ["Bearer option-token", "https://option.example.com/jobs/plain"],
      ["Bearer bindings-token", "https://bindings.example.com/jobs/plain"],
      ["Bearer process-token", "https://process.example.com/jobs/plain"],
    ]);
    expect(withOption.withEnv(bindings).url("plain")).toBe("https://bindings.example.com/jobs/plain");
    expect(withOption.url("plain")).toBe("https://option.example.com/jobs/plain");
  });

  it("falls through variable by variable, as the receiver does", async () => {
    const jobs = createJobstash({ app: "acme", jobs: [plain], env: settings("option") });
    await jobs.withEnv({ QSTASH_TOKEN: "bindings-token", JOBSTASH_BASE_URL: "" }).trigger("plain", { n: 1 });
    expect(sentWith()).toEqual([["Bearer bindings-token", "https://option.example.com/jobs/plain"]]);
  });

  it("batches with the bindings too", async () => {
    const jobs = createJobstash({ app: "acme", jobs: [plain, report], env: settings("option") });
    const ids = await jobs.withEnv(settings("bindings")).batch([
      { id: "plain", input: { n: 1 } },
      { id: "report", input: { day: "mon" } },
    ]);
    expect(ids).toHaveLength(2);
    expect(qstash.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ["/v2/batch", "Bearer bindings-token"],
    ]);
    const sent = JSON.parse(qstash.requests[0]!.body) as { destination: string }[];
    expect(sent.map((m) => m.destination)).toEqual([
      "https://bindings.example.com/jobs/plain",
      "https://bindings.example.com/jobs/report",
    ]);
  });

  it("still lets the createJobstash options win over the bindings", async () => {
    const bindings = { QSTASH_URL: "http://127.0.0.1:9", QSTASH_TOKEN: "bindings-token" };
    await registry()
      .withEnv({ ...bindings, JOBSTASH_BASE_URL: "https://bindings.example.com/jobs" })
      .trigger("plain", { n: 1 });
    expect(sentWith()).toEqual([["Bearer test-token", `${BASE}/plain`]]);
    expect(registry().withEnv(bindings).url("plain")).toBe(`${BASE}/plain`);
  });

  it("names the variable to set when the bindings lack the token", async () => {
    vi.stubEnv("QSTASH_TOKEN", undefined);
    const jobs = createJobstash({ app: "acme", jobs: [plain] }).withEnv({
      QSTASH_URL: qstash.url,
      JOBSTASH_BASE_URL: BASE,
    });
    for (const call of [jobs.trigger("plain", { n: 1 }), jobs.batch([{ id: "plain", input: { n: 1 } }])]) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^no QStash token: set QSTASH_TOKEN \(or createJobstash/);
    }
    expect(qstash.requests).toHaveLength(0);
  });

  it("triggers from inside a job with the delivery's bindings in ctx.env", async () => {
    const bindings = {
      ...settings("bindings"),
      JOBSTASH_BASE_URL: BASE,
      QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
      QSTASH_NEXT_SIGNING_KEY: KEYS.next,
    };
    const order = defineJob({
      id: "order",
      input: z.object({ n: z.number() }),
      async run(input, ctx) {
        await jobs.withEnv(ctx.env).trigger("plain", { n: input.n + 1 });
      },
    });
    const jobs = createJobstash({ app: "acme", jobs: [order, plain], env: settings("option") });
    const response = await createHandler(jobs)(delivery(`${BASE}/order`, { n: 1 }), bindings);
    expect(response.status).toBe(200);
    expect(sentWith()).toEqual([["Bearer bindings-token", `${BASE}/plain`]]);
    expect(JSON.parse(qstash.requests[0]!.body)).toEqual({ n: 2 });
  });
});
