import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/process.js";
import registry, { runs } from "./fixtures/ops/jobstash.config.js";
import { OPS_APP, opsStackForFile } from "./ops-harness.js";
import { CLI, requireBuiltCli } from "./run.js";

requireBuiltCli();
const stack = opsStackForFile(registry);

describe("jobstash trigger", () => {
  it("publishes a checked input to the job's URL and prints the message id", async () => {
    const r = await stack.cli(["trigger", "greet", '{"name":"Ada"}']);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const messageId = r.stdout.trim();
    expect(messageId).toMatch(/^msg_\w+$/);
    const message = await stack.client.messages.get(messageId).catch(() => undefined);
    // Delivered already, or on its way: either way the log has it, to the job's URL.
    const { logs } = await stack.client.logs({ filter: { messageId } });
    expect(logs.at(-1)).toMatchObject({ state: "CREATED", url: `${stack.baseUrl}/greet` });
    if (message) expect(message.url).toBe(`${stack.baseUrl}/greet`);
  });

  it("sends what jobs.trigger sends: the job's settings and the options given", async () => {
    const r = await stack.cli([
      "trigger",
      "greet",
      '{"name":"Bo"}',
      "--delay",
      "1h",
      "--deduplication-id",
      "dedup-cli-1",
      "--label",
      "from-cli",
      "--retries",
      "5",
      "--flow-control",
      "key=tenant-1,parallelism=2",
      "-H",
      "X-Tenant: t1",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({
      messageId: expect.stringMatching(/^msg_/),
      jobId: "greet",
      url: `${stack.baseUrl}/greet`,
    });
    const message = await stack.client.messages.get(out.messageId);
    expect(message).toMatchObject({
      url: `${stack.baseUrl}/greet`,
      maxRetries: 5,
      labels: ["from-cli"],
      flowControlKey: "tenant-1",
      parallelism: 2,
      callback: `${stack.baseUrl}/greet?callback=success`,
      body: '{"name":"Bo"}',
    });
    expect(message.header).toMatchObject({ "X-Tenant": ["t1"], "Jobstash-Max-Retries": ["5"] });
    expect(message.notBefore).toBeGreaterThan(Date.now() + 3_500_000);
    // The same deduplication id again: QStash hands back the first message.
    const again = await stack.cli(["trigger", "greet", '{"name":"Bo"}', "--deduplication-id", "dedup-cli-1"]);
    expect(again.stdout.trim()).toBe(out.messageId);
    await stack.client.messages.cancel(out.messageId);
  });

  it("reads the input from a file or from stdin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobstash-trigger-"));
    try {
      const file = join(dir, "input.json");
      await writeFile(file, '{\n  "name": "from a file"\n}\n');
      const fromFile = await stack.cli(["trigger", "greet", "--input-file", file, "--wait"]);
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout).toContain('delivered (200, attempt 1): {"greeting":"hello from a file"}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const child = spawn(process.execPath, [CLI, "trigger", "greet", "-", "--wait"], {
      cwd: OPS_APP,
      env: { ...process.env, ...stack.env, NO_COLOR: "1" },
    });
    child.stdin.end('{"name":"from stdin"}');
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(out).toContain('{"greeting":"hello from stdin"}');
  });

  it("--wait follows the message: its events in dev's format, then the outcome; exit 0 when delivered", async () => {
    const r = await stack.cli(["trigger", "greet", '{"name":"Cy","times":2}', "--wait"]);
    expect(r.code).toBe(0);
    const [id, ...lines] = r.stdout.trim().split("\n");
    const url = `${stack.baseUrl}/greet`;
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} CREATED {10}${id} → ${url}$`)),
      expect.stringMatching(new RegExp(`ACTIVE {11}${id} → ${url} \\(retried 0/3\\)$`)),
      expect.stringMatching(new RegExp(`DELIVERED {8}${id} → ${url} \\(200, retried 0/3\\)$`)),
    ]);
    expect(lines.at(-1)).toBe('delivered (200, attempt 1): {"greeting":"hello Cyhello Cy"}');
    expect(runs).toContainEqual({ job: "greet", input: { name: "Cy", times: 2 } });
  });

  it("--wait exits 1 when the message fails for good, with the reason and its DLQ id", async () => {
    const r = await stack.cli(["trigger", "flaky", '{"n":7}', "--wait", "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      jobId: "flaky",
      outcome: "failed",
      status: 500,
      attempts: 3,
      reason: "Error: database unavailable (n=7)",
      dlqId: expect.any(String),
    });
    expect(out.events.map((e: { state: string }) => e.state)).toEqual([
      "CREATED",
      "ACTIVE",
      "ERROR",
      "RETRY",
      "ACTIVE",
      "ERROR",
      "RETRY",
      "ACTIVE",
      "ERROR",
      "FAILED",
    ]);
    expect(out.events.at(-1)).toMatchObject({ retried: 2, maxRetries: 2, status: 500 });
    const { messages } = await stack.client.dlq.listMessages({ filter: { messageId: out.messageId } });
    expect(messages[0]?.dlqId).toBe(out.dlqId);

    const human = await stack.cli(["trigger", "bounce", '{"email":"a@bounce.test"}', "--wait"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      /failed for good \(489\): a@bounce\.test bounced\nin the DLQ as (\S+): `jobstash dlq show \1`\n$/,
    );
  });
});

describe("jobstash trigger refuses bad input, sending nothing", () => {
  /** Messages the dev server accepted so far. */
  const created = async () =>
    (await stack.client.logs({ filter: { state: "CREATED" }, count: 1000 })).logs.length;

  it("an input that fails the schema: exit 2, the issues listed", async () => {
    const before = await created();
    const r = await stack.cli(["trigger", "bounce", '{"email":"not an address"}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'jobstash trigger: the input (the JSON argument) does not match the schema of job "bounce"; nothing was sent:\n  - email: Invalid email address\n',
    );
    const none = await stack.cli(["trigger", "greet"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^jobstash trigger: the input \(none given\) does not match the schema of job "greet"; nothing was sent:\n {2}- \(root\): /,
    );
    const json = await stack.cli(["trigger", "greet", '{"name":""}', "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        message: expect.stringContaining("does not match the schema"),
        exitCode: 2,
        issues: [{ path: "name", message: expect.stringMatching(/>=1 characters/) }],
      },
    });
    expect(await created()).toBe(before);
  });

  it("an unknown job, JSON that does not parse, a bad option: exit 2, each saying what to fix", async () => {
    const before = await created();
    const cases: [string[], RegExp][] = [
      [
        ["trigger", "gret", "{}"],
        /^jobstash trigger: unknown job "gret"; did you mean "greet"\? \(known jobs: greet, bounce, flaky, nightly\)\n$/,
      ],
      [
        ["trigger", "greet", "{name: 'x'}"],
        /^jobstash trigger: the JSON argument is not valid JSON: .*\(JSON needs double-quoted keys and strings/,
      ],
      [
        ["trigger", "greet", '{"name":"x"}', "--delay", "soon"],
        /^jobstash trigger: --delay invalid duration "soon": use seconds as a number or a string like "30s".*; nothing was sent\n$/,
      ],
      [
        ["trigger", "greet", '{"name":"x"}', "--retries", "-1"],
        /^jobstash trigger: option --retries needs a value/,
      ],
      [
        ["trigger", "greet", '{"name":"x"}', "--retries", "many"],
        /^jobstash trigger: --retries must be a whole number ≥ 0 \(got "many"\)\n$/,
      ],
      [
        ["trigger", "greet", '{"name":"x"}', "--not-before", "tomorrow"],
        /^jobstash trigger: --not-before "tomorrow" is not an ISO 8601 time/,
      ],
      [
        ["trigger", "greet", '{"name":"x"}', "--flow-control", "parallelism=2"],
        /^jobstash trigger: --flow-control key must be a non-empty string; nothing was sent\n$/,
      ],
      [
        ["trigger", "greet", '{"name":"x"}', "extra"],
        /^jobstash trigger: unexpected argument "extra": jobstash trigger takes <jobId> \[json\]/,
      ],
      [
        ["trigger", "greet", "--input-file", "/nonexistent/input.json"],
        /^jobstash trigger: cannot read --input-file \/nonexistent\/input\.json: ENOENT/,
      ],
      [["trigger"], /^jobstash trigger: which job\?/],
    ];
    const results = await Promise.all(cases.map(([args]) => stack.cli(args)));
    cases.forEach(([args, expected], i) => {
      expect(results[i]!.code, args.join(" ")).toBe(2);
      expect(results[i]!.stderr, args.join(" ")).toMatch(expected);
    });
    expect(await created()).toBe(before);
  });

  it("a token QStash refuses and an unreachable QStash: exit 1, naming the URL and the setting", async () => {
    const refused = await stack.cli(["trigger", "greet", '{"name":"x"}'], { QSTASH_TOKEN: "not-a-token" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `jobstash trigger: QStash at ${stack.url} refused the token (401: unknown token: use one of the dev users' QSTASH_TOKEN values printed by \`jobstash dev\`): set QSTASH_TOKEN to a token of that QStash; \`jobstash dev\` prints its own\n`,
    );
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await stack.cli(["trigger", "greet", '{"name":"x"}'], { QSTASH_URL: closed });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      `jobstash trigger: could not reach QStash at ${closed} (QSTASH_URL): connect ECONNREFUSED ${closed.slice(7)} (6 attempt(s)); check the URL, and that the server is running\n`,
    );
    const noToken = await stack.cli(["trigger", "greet", '{"name":"x"}'], { QSTASH_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/^jobstash trigger: no QStash token: set QSTASH_TOKEN/);
  });

  it("without a config file: exit 2, saying how to make one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobstash-trigger-noconfig-"));
    try {
      const { jobstashDone } = await import("./run.js");
      const r = await jobstashDone(["trigger", "greet", "{}"], { cwd: dir, env: stack.env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^jobstash trigger: no jobstash.config.ts in .*: create one that exports your createJobstash\(\) registry/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
