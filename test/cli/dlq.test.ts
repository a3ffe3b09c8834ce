import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import registry, { runs } from "./fixtures/ops/jobstash.config.js";
import { opsStackForFile } from "./ops-harness.js";
import { requireBuiltCli } from "./run.js";

requireBuiltCli();
const stack = opsStackForFile(registry);

interface Row {
  dlqId: string;
  messageId: string;
  jobId: string | null;
  kind: string;
  fits: boolean | null;
  status: number | null;
  reason: string | null;
}

async function list(args: string[] = []): Promise<Row[]> {
  const r = await stack.cli(["dlq", "list", "--json", ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).entries;
}

/** Publish straight to a job's URL (not through trigger, so the body is whatever we say) and wait for the DLQ. */
async function deadLetter(job: string, body: unknown): Promise<Row> {
  const { messageId } = await stack.client.publishJSON({ url: `${stack.baseUrl}/${job}`, body, retries: 0 });
  await expect
    .poll(async () => (await stack.client.dlq.listMessages({ filter: { messageId } })).messages.length)
    .toBe(1);
  return (await list()).find((r) => r.messageId === messageId)!;
}

describe("jobstash dlq list and show", () => {
  it("lists each entry with its job, reason, time and whether its body fits the schema", async () => {
    const bounced = await deadLetter("bounce", { email: "ann@bounce.test" });
    const unfit = await deadLetter("greet", { name: "" });
    expect(bounced).toMatchObject({
      jobId: "bounce",
      kind: "job",
      status: 489,
      reason: "ann@bounce.test bounced",
      fits: true,
    });
    expect(unfit).toMatchObject({
      jobId: "greet",
      status: 489,
      fits: false,
      reason: expect.stringMatching(/^the input of job "greet" does not match the schema \(name: /),
    });
    const table = await stack.cli(["dlq", "list"], { COLUMNS: "200" });
    expect(table.stdout).toMatch(/^DLQ ID +JOB +FAILED \(UTC\) +STATUS +FITS +REASON\n/);
    expect(table.stdout).toMatch(
      new RegExp(
        `${bounced.dlqId} +bounce +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +489 +yes +ann@bounce\\.test bounced`,
      ),
    );
    expect(table.stdout).toMatch(new RegExp(`${unfit.dlqId} +greet +.* +489 +no +the input of job "greet"`));
    expect(table.stdout).toMatch(/\n\d+ entries, \d+ no longer fits? the job's schema/);
    // The table fits the terminal: the reason column gives way.
    const narrow = await stack.cli(["dlq", "list"], { COLUMNS: "80" });
    const rows = narrow.stdout.slice(0, narrow.stdout.indexOf("\n\n")).split("\n");
    for (const line of rows) expect(line.length).toBeLessThanOrEqual(80);
    expect(narrow.stdout).toContain("…");

    const byJob = await list(["--job", "bounce"]);
    expect(byJob.map((r) => r.jobId)).toEqual(byJob.map(() => "bounce"));
    expect(byJob.map((r) => r.dlqId)).toContain(bounced.dlqId);
    expect(await list(["--since", "2099-01-01T00:00:00Z"])).toEqual([]);
  });

  it("shows one entry: the decoded body, the schema's issues, the last response", async () => {
    const unfit = await deadLetter("greet", { name: "", extra: 1 });
    const r = await stack.cli(["dlq", "show", unfit.dlqId]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `DLQ entry ${unfit.dlqId}\n  job        greet\n  message    ${unfit.messageId}\n  url        ${stack.baseUrl}/greet\n`,
    );
    expect(r.stdout).toMatch(
      /Body \(does not fit the current schema of greet\):\n {2}- name: .*\n\{\n {2}"name": "",\n {2}"extra": 1\n\}/,
    );
    expect(r.stdout).toMatch(/Last response \(489\):\n\{\n {2}"error": \{\n {4}"code": "INVALID_PAYLOAD"/);
    expect(r.stdout).toContain(`Fix the input and send it: \`jobstash dlq replay ${unfit.dlqId} --edit\``);
    const json = JSON.parse((await stack.cli(["dlq", "show", unfit.dlqId, "--json"])).stdout);
    expect(json).toMatchObject({
      dlqId: unfit.dlqId,
      jobId: "greet",
      kind: "job",
      fits: false,
      input: { name: "", extra: 1 },
      body: '{"name":"","extra":1}',
      issues: [{ path: "name", message: expect.any(String) }],
      response: { status: 489, body: expect.stringContaining("INVALID_PAYLOAD") },
    });
  });

  it("an unknown DLQ id: exit 2, naming it", async () => {
    for (const command of ["show", "retry", "delete", "replay"]) {
      const r = await stack.cli(["dlq", command, "1-404"]);
      expect(r.code, command).toBe(2);
      expect(r.stderr, command).toBe(
        `jobstash dlq: no DLQ entry "1-404" in QStash at ${stack.url}; \`jobstash dlq list\` shows the ids (nothing was changed)\n`,
      );
    }
    const mixed = await deadLetter("bounce", { email: "keep@bounce.test" });
    const r = await stack.cli(["dlq", "delete", mixed.dlqId, "1-404"]);
    expect(r.code).toBe(2);
    expect((await list()).map((e) => e.dlqId)).toContain(mixed.dlqId);
    const sub = await stack.cli(["dlq", "lsit"]);
    expect(sub).toMatchObject({ code: 2 });
    expect(sub.stderr).toMatch(/^jobstash dlq: unknown command "lsit"; did you mean "dlq list"\?/);
  });
});

describe("jobstash dlq retry, delete and replay", () => {
  it("retry sends entries again as they are, as new messages, and takes them off the DLQ", async () => {
    const a = await deadLetter("bounce", { email: "a@bounce.test" });
    const b = await deadLetter("bounce", { email: "b@bounce.test" });
    const r = await stack.cli(["dlq", "retry", a.dlqId, b.dlqId, "--json"]);
    expect(r.code).toBe(0);
    const { retried, messageIds } = JSON.parse(r.stdout);
    expect(retried).toBe(2);
    const ids = (await list()).map((e) => e.dlqId);
    expect(ids).not.toContain(a.dlqId);
    expect(ids).not.toContain(b.dlqId);
    // They fail again (same input): new entries for the new messages.
    await expect
      .poll(async () => (await list()).filter((e) => messageIds.includes(e.messageId)).length)
      .toBe(2);
  });

  it("replay publishes an edited input as a new message of the job, then deletes the entry", async () => {
    const entry = await deadLetter("greet", { name: "" });
    const r = await stack.cli(["dlq", "replay", entry.dlqId, "--input", '{"name":"Dee"}']);
    expect(r.code, r.stderr).toBe(0);
    const [, messageId] = /as (msg_\w+)/.exec(r.stdout)!;
    expect(r.stdout).toBe(`Replayed ${entry.dlqId} as ${messageId} (job greet); the entry is deleted.\n`);
    expect((await list()).map((e) => e.dlqId)).not.toContain(entry.dlqId);
    await expect
      .poll(() => runs.some((x) => x.job === "greet" && (x.input as { name: string }).name === "Dee"))
      .toBe(true);
    // The job's own settings, as trigger sets them: its callback URL, its retries header.
    const { logs } = await stack.client.logs({ filter: { messageId } });
    expect(logs.map((l) => l.state)).toContain("DELIVERED");
  });

  it("replay --edit opens $EDITOR on the decoded body, and checks what was saved", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobstash-editor-"));
    try {
      // An "editor" that writes a fixed text into the file it is given.
      const editor = async (text: string) => {
        const file = join(dir, `editor-${Math.random().toString(36).slice(2)}.sh`);
        await writeFile(file, `#!/bin/sh\nprintf '%s' '${text}' > "$1"\n`);
        await chmod(file, 0o755);
        return file;
      };
      const entry = await deadLetter("greet", { name: "" });
      const bad = await stack.cli(["dlq", "replay", entry.dlqId, "--edit"], {
        EDITOR: await editor('{"name": 3}'),
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(
        /^jobstash dlq: the edited input does not match the schema of job "greet"; nothing was sent:\n {2}- name: .*\nyour edit is in .*\.json \(`--input-file .*\.json` uses it\)\n$/,
      );
      expect((await list()).map((e) => e.dlqId)).toContain(entry.dlqId);
      const notJson = await stack.cli(["dlq", "replay", entry.dlqId, "--edit"], {
        EDITOR: await editor("{name: Eve}"),
      });
      expect(notJson.code).toBe(2);
      expect(notJson.stderr).toMatch(/^jobstash dlq: the edited input is not valid JSON: /);
      const good = await stack.cli(["dlq", "replay", entry.dlqId, "--edit"], {
        EDITOR: await editor('{"name": "Eve"}'),
      });
      expect(good.code, good.stderr).toBe(0);
      expect((await list()).map((e) => e.dlqId)).not.toContain(entry.dlqId);
      await expect.poll(() => runs.some((x) => (x.input as { name?: string }).name === "Eve")).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("replay refuses what is not a job's input, and an input that does not fit", async () => {
    const entry = await deadLetter("greet", { name: "" });
    const unfit = await stack.cli(["dlq", "replay", entry.dlqId]);
    expect(unfit.code).toBe(2);
    expect(unfit.stderr).toMatch(
      /^jobstash dlq: the entry's body does not match the schema of job "greet"; nothing was sent:\n {2}- name: /,
    );
    const foreign = await stack.client.publishJSON({ url: `${stack.url}/elsewhere/x`, body: {}, retries: 0 });
    let foreignId: string | undefined;
    await expect
      .poll(async () => {
        const { messages } = await stack.client.dlq.listMessages({
          filter: { messageId: foreign.messageId },
        });
        foreignId = messages[0]?.dlqId;
        return foreignId;
      })
      .toBeDefined();
    const r = await stack.cli(["dlq", "replay", foreignId!]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /is a message to .*elsewhere\/x, not to a job under JOBSTASH_BASE_URL .*; `jobstash dlq retry .*` sends it again as it is/,
    );
    const row = (await list()).find((e) => e.dlqId === foreignId);
    expect(row).toMatchObject({ jobId: null, kind: "foreign", fits: null });
  });

  it("delete --all asks first: without a terminal it needs --yes, and deletes nothing without it", async () => {
    await deadLetter("bounce", { email: "z@bounce.test" });
    const count = (await list()).length;
    const refused = await stack.cli(["dlq", "delete", "--all"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `jobstash dlq: Delete ${count} DLQ entries at ${stack.url}: pass --yes to confirm (no terminal to ask on)\n`,
    );
    expect(await list()).toHaveLength(count);
    const done = await stack.cli(["dlq", "delete", "--all", "--yes"]);
    expect(done).toMatchObject({ code: 0, stdout: `Deleted ${count} DLQ entries at ${stack.url}.\n` });
    expect(await list()).toEqual([]);
    const nothing = await stack.cli(["dlq", "delete", "--all", "--yes"]);
    expect(nothing.stdout).toBe("No DLQ entries match; nothing to delete.\n");
    const both = await stack.cli(["dlq", "retry", "1-1", "--all"]);
    expect(both.stderr).toMatch(/^jobstash dlq: give either DLQ ids or --all, not both/);
    const filterless = await stack.cli(["dlq", "delete", "--job", "greet"]);
    expect(filterless.stderr).toMatch(/^jobstash dlq: --job and --since select entries with --all/);
  });
});
