import { ConfigError, createJobstash, defineFlowControl, defineJob, defineQueue } from "jobstash";
import { desiredState, SyncValidationError } from "jobstash/sync";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { perDeploymentHost } from "../../src/sync/url-policy.js";

const job = (id: string, extra: Record<string, unknown> = {}) =>
  defineJob({ id, input: z.object({}), run: () => undefined, ...extra });

async function problems(promise: Promise<unknown>): Promise<readonly string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SyncValidationError);
  return (error as SyncValidationError).problems;
}

describe("declarations", () => {
  it("validates queues and flow-control declarations", () => {
    expect(() => defineQueue({ name: "a b" })).toThrow(/defineQueue\("a b"\): name must be/);
    expect(() => defineQueue({ name: "q", parallelism: 0 })).toThrow(
      /parallelism must be a whole number > 0/,
    );
    expect(defineQueue({ name: "q" })).toEqual({ kind: "queue", name: "q", parallelism: 1, paused: false });
    expect(() => defineFlowControl({ key: "k" })).toThrow(/needs `parallelism`, `rate` or both/);
    expect(() =>
      createJobstash({
        app: "a",
        jobs: [],
        queues: [defineQueue({ name: "q" }), defineQueue({ name: "q" })],
      }),
    ).toThrow(/queue "q" is declared twice/);
    expect(() => createJobstash({ app: "a", jobs: [], queues: [{ name: "q" } as never] })).toThrow(
      /must come from defineQueue/,
    );
  });

  it("rejects one flow-control key with two configs, naming both declarations", () => {
    const a = job("a", { flowControl: { key: "k", parallelism: 2 } });
    const b = job("b", { flowControl: { key: "k", parallelism: 3 } });
    expect(() => createJobstash({ app: "x", jobs: [a, b] })).toThrow(ConfigError);
    expect(() => createJobstash({ app: "x", jobs: [a, b] })).toThrow(
      /flow-control key "k" has different limits in job "a" \(parallelism 2\) and job "b" \(parallelism 3\)/,
    );
    const declared = defineFlowControl({ key: "k", parallelism: 2, rate: 5 });
    expect(() => createJobstash({ app: "x", jobs: [a], flowControls: [declared] })).toThrow(
      /defineFlowControl\("k"\) \(parallelism 2, rate 5\/1s\) and job "a" \(parallelism 2\)/,
    );
    // Same limits, spelled differently: one config.
    const c = job("c", { flowControl: { key: "r", rate: 5, period: "1m" } });
    const d = job("d", { flowControl: { key: "r", rate: 5, period: 60 } });
    expect(() => createJobstash({ app: "x", jobs: [c, d] })).not.toThrow();
  });

  it("implies a queue with parallelism 1 for a job's undeclared queue; computed keys are not synced", async () => {
    const jobs = createJobstash({
      app: "x",
      jobs: [job("a", { queue: "implicit", flowControl: () => ({ key: "per-user", parallelism: 1 }) })],
      queues: [defineQueue({ name: "declared", parallelism: 4, paused: true })],
    });
    const d = await desiredState(jobs, {
      env: "development",
      bindings: { JOBSTASH_BASE_URL: "http://localhost:3000/api/jobs" },
    });
    expect(d.queues).toEqual([
      { name: "declared", parallelism: 4, paused: true, declaredBy: 'defineQueue("declared")' },
      { name: "implicit", parallelism: 1, paused: false, declaredBy: 'job "a"' },
    ]);
    expect(d.flowControls).toEqual([]);
  });
});

describe("desiredState validation", () => {
  const jobs = createJobstash({
    app: "acme",
    jobs: [job("a", { schedules: [{ cron: "0 9 * * *", input: {} }] })],
  });

  it("needs a base URL, https outside development, and no preview host in production", async () => {
    expect(await problems(desiredState(jobs, { env: "production", bindings: {} }))).toEqual([
      expect.stringContaining("no public base URL: set JOBSTASH_BASE_URL"),
    ]);
    expect(
      await problems(
        desiredState(jobs, { env: "staging", bindings: { JOBSTASH_BASE_URL: "http://acme.dev/api" } }),
      ),
    ).toEqual([expect.stringContaining("is not https")]);
    const preview = "https://acme-git-feature-x-team.vercel.app/api/jobs";
    expect(
      await problems(desiredState(jobs, { env: "production", bindings: { JOBSTASH_BASE_URL: preview } })),
    ).toEqual([expect.stringMatching(/looks like a Vercel deployment or preview host.*--allow-preview-url/)]);
    await expect(
      desiredState(jobs, {
        env: "production",
        allowPreviewUrl: true,
        bindings: { JOBSTASH_BASE_URL: preview },
      }),
    ).resolves.toMatchObject({ env: "production" });
    // Local environments may use plain http.
    await expect(
      desiredState(jobs, {
        env: "development",
        bindings: { JOBSTASH_BASE_URL: "http://127.0.0.1:3000/api/jobs" },
      }),
    ).resolves.toMatchObject({ baseUrl: "http://127.0.0.1:3000/api/jobs" });
  });

  it("rejects an env name with a dot, and reads JOBSTASH_ENV", async () => {
    expect(
      await problems(desiredState(jobs, { env: "a.b", bindings: { JOBSTASH_BASE_URL: "https://a.dev" } })),
    ).toEqual([expect.stringContaining("no dots")]);
    await expect(
      desiredState(jobs, { bindings: { JOBSTASH_BASE_URL: "https://a.dev", JOBSTASH_ENV: "preview-7" } }),
    ).resolves.toMatchObject({ env: "preview-7" });
    await expect(
      desiredState(jobs, { bindings: { JOBSTASH_BASE_URL: "https://a.dev" } }),
    ).resolves.toMatchObject({
      env: "development",
    });
  });

  it("checks schedule inputs against async schemas before any write", async () => {
    const asyncSchema = z.object({ n: z.number() }).refine(async (v) => v.n > 0, "n must be positive");
    const bad = createJobstash({
      app: "acme",
      jobs: [
        defineJob({
          id: "s",
          input: asyncSchema,
          schedules: [{ id: "neg", cron: "* * * * *", input: { n: -1 } }],
          run: () => undefined,
        }),
      ],
    });
    const found = await problems(
      desiredState(bad, { env: "production", bindings: { JOBSTASH_BASE_URL: "https://a.dev" } }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /job "s" schedules\["neg"\]: input does not match the job's schema:[\s\S]*n must be positive/,
      ),
    ]);
  });

  it("recognises per-deployment hosts", () => {
    expect(perDeploymentHost("acme-3k2j4h5g6-team.vercel.app")).toBeDefined();
    expect(perDeploymentHost("acme-git-main-team.vercel.app")).toBeDefined();
    expect(perDeploymentHost("deploy-preview-12--acme.netlify.app")).toBeDefined();
    expect(perDeploymentHost("acme.vercel.app")).toBeUndefined();
    expect(perDeploymentHost("acme.dev")).toBeUndefined();
  });
});
