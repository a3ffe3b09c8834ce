import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@upstash/qstash";
import { DEFAULT_DEV_USER } from "jobstash/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SyncStack, startStack } from "./helpers";

// The built CLI, as users run it (`npm test` builds first).
const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "../../dist/cli/index.js");
const FIXTURES = join(here, "fixtures");

let stack: SyncStack;
beforeAll(async () => {
  if (!existsSync(CLI))
    throw new Error("dist/ is missing: run `npm run build` first (`npm test` builds before vitest runs)");
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `jobstash sync` in the fixtures directory (so it finds jobstash.config.ts itself). */
function sync(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(QSTASH_|JOBSTASH_|SYNC_TEST_)/.test(k)),
    );
    const child = spawn(process.execPath, [CLI, "sync", ...args], {
      cwd: FIXTURES,
      env: { ...clean, ...stack.bindings, NO_COLOR: "1", ...env } as unknown as NodeJS.ProcessEnv,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("jobstash sync (CLI)", () => {
  it("prints a plan on --dry-run and writes nothing", async () => {
    stack.reset();
    const r = await sync(["--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('jobstash sync: app "cli-app", env "development"');
    expect(r.stdout).toMatch(/\+ cli-app\.development\.digest\.daily {2}cron "0 7 \* \* \*" Europe\/Paris/);
    expect(r.stdout).toMatch(/next: \w{3} \d{4}-\d\d-\d\d 07:00 GMT\+[12], /);
    expect(r.stdout).toContain("+ digests  parallelism 3");
    expect(r.stdout).toContain("Plan: 4 to create, 0 to update, 0 to delete, 0 unchanged, 0 foreign.");
    expect(stack.writes()).toEqual([]);
  });

  it("gates CI with --check, applies, then reports drift after a code change", async () => {
    expect((await sync(["--check"])).code).toBe(1);
    const applied = await sync([]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Applied: 4 created, 0 updated, 0 deleted in \d+ ms/);
    const clean = await sync(["--check"]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain("Plan: 0 to create, 0 to update, 0 to delete, 4 unchanged");

    const drifted = await sync(["--check"], { SYNC_TEST_CRON: "0 8 * * *" });
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toContain('~ cli-app.development.digest.daily  cron: "0 7 * * *" → "0 8 * * *"');
    expect(drifted.stderr).toContain("QStash differs from the code");
  });

  it("prints the plan as JSON for CI", async () => {
    const r = await sync(["--dry-run", "--json"], { SYNC_TEST_CRON: "0 8 * * *" });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ app: "cli-app", env: "development", drift: true, summary: { update: 1 } });
    expect(plan.nextRuns["cli-app.development.digest.daily"]).toHaveLength(3);
  });

  it("deletes a removed job's schedule only with --prune", async () => {
    await sync([]);
    const kept = await sync([], { SYNC_TEST_DROP_EXTRA: "1" });
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("- cli-app.development.extra.0");
    expect(kept.stdout).toContain(
      "skipped schedule cli-app.development.extra.0: not declared in code; pass --prune",
    );
    const client = new Client({ baseUrl: stack.qstashUrl, token: DEFAULT_DEV_USER.token });
    expect((await client.schedules.list()).map((s) => s.scheduleId)).toContain("cli-app.development.extra.0");
    const pruned = await sync(["--prune"], { SYNC_TEST_DROP_EXTRA: "1" });
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/Applied: 0 created, 0 updated, 1 deleted/);
    expect((await client.schedules.list()).map((s) => s.scheduleId)).not.toContain(
      "cli-app.development.extra.0",
    );
  });

  it("passes --check while a declared key waits for its first message, and pins it after one", async () => {
    const key = { SYNC_TEST_FLOW_KEY: "cli-key" };
    const first = await sync([], key);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("… cli-key  waiting for its first message");
    expect(first.stdout).toContain("1 waiting for a first message");
    const check = await sync(["--check", "--json"], key);
    expect(check.code).toBe(0);
    const json = JSON.parse(check.stdout);
    expect(json).toMatchObject({ drift: false, summary: { waiting: 1 } });
    expect(json.flowControls).toMatchObject([{ key: "cli-key", action: "waiting" }]);
    stack.reset();
    expect((await sync([], key)).code).toBe(0);
    expect(stack.writes()).toEqual([]);

    const client = new Client({ baseUrl: stack.qstashUrl, token: DEFAULT_DEV_USER.token, retry: false });
    const { messageId } = await client.publishJSON({
      url: `${stack.baseUrl}/digest`,
      body: { period: "day" },
      delay: "1d",
      flowControl: { key: "cli-key", parallelism: 1 },
    });
    await client.messages.cancel(messageId);
    stack.reset();
    expect((await sync([], key)).code).toBe(0);
    expect(stack.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      "POST /v2/flowControl/cli-key/pin?parallelism=2",
    ]);
    expect(await client.flowControl.get("cli-key")).toMatchObject({
      parallelismMax: 2,
      isPinnedParallelism: true,
    });
    expect((await sync(["--check"], key)).code).toBe(0);
  });

  it("refuses to start with a message that says what to fix, exit code 2", async () => {
    const noToken = await sync(["--dry-run"], { QSTASH_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("no QStash token: set QSTASH_TOKEN");
    const http = await sync(["--dry-run", "--env", "production"]);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/JOBSTASH_BASE_URL http:\/\/127\.0\.0\.1:\d+\/api\/jobs is not https/);
    const missing = await sync(["--config", "nope.config.ts"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.config.ts not found");
    const badCron = await sync(["--dry-run"], { SYNC_TEST_CRON: "61 * * * *" });
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toMatch(
      /defineJob\("digest"\): schedules\[0\]\.cron "61 \* \* \* \*" is not a valid cron expression: minute 61 is out of range/,
    );
    const unknown = await sync(["--bogus"]);
    expect(unknown.code).toBe(2);
  });

  it("exits 1 when QStash cannot be read, naming the QStash it tried", async () => {
    // A refused token is not retried: the read fails at once, before anything is written.
    const refused = await sync(["--dry-run"], { QSTASH_TOKEN: "not-a-token" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^jobstash sync: could not read QStash at http:\/\/127\.0\.0\.1:\d+: /m);
    expect(refused.stdout).toBe("");
  });
});

describe("jobstash dev", () => {
  it("syncs the registry into the fresh local server on start", async () => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(QSTASH_|JOBSTASH_|SYNC_TEST_)/.test(k)),
    );
    const child = spawn(process.execPath, [CLI, "dev", "--port", "0", "--quiet"], {
      cwd: FIXTURES,
      env: {
        ...clean,
        NO_COLOR: "1",
        JOBSTASH_BASE_URL: "http://127.0.0.1:9/api/jobs",
        SYNC_TEST_FLOW_KEY: "dev-key",
      } as unknown as NodeJS.ProcessEnv,
    });
    try {
      let output = "";
      const synced = new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c) => {
          output += c;
          if (output.includes("jobstash dev: synced")) resolve();
        });
        child.on("exit", (code) => reject(new Error(`jobstash dev exited with ${code}:\n${output}`)));
      });
      await Promise.race([
        synced,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no sync within 10 s:\n${output}`)), 10_000),
        ),
      ]);
      expect(output).toContain("jobstash dev: synced (4 created, 0 updated)");
      // A fresh server has seen no message yet: the key waits, and nothing is reported as failed.
      expect(output).toContain("… dev-key  waiting for its first message");
      expect(output).not.toMatch(/skipped|failed/);
      const url = /QSTASH_URL=(\S+)/.exec(output)![1]!;
      const client = new Client({ baseUrl: url, token: DEFAULT_DEV_USER.token });
      expect((await client.schedules.list()).map((s) => s.scheduleId).sort()).toEqual([
        "cli-app.development._jobstash",
        "cli-app.development.digest.daily",
        "cli-app.development.extra.0",
      ]);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
