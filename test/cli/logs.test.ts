import { describe, expect, it } from "vitest";
import registry from "./fixtures/ops/jobstash.config.js";
import { opsStackForFile } from "./ops-harness.js";
import { requireBuiltCli } from "./run.js";

requireBuiltCli();
const devLog: string[] = [];
const stack = opsStackForFile(registry, { devLog });

/** Trigger through the CLI and wait for the outcome; the message id. */
async function triggered(job: string, input: unknown): Promise<string> {
  const r = await stack.cli(["trigger", job, JSON.stringify(input), "--wait", "--json"]);
  return JSON.parse(r.stdout).messageId;
}

const linesOf = (text: string, id: string) => text.split("\n").filter((l) => l.includes(` ${id} `));

describe("jobstash logs", () => {
  it("prints each event as `jobstash dev` prints it, oldest first", async () => {
    const delivered = await triggered("greet", { name: "Ada" });
    const failed = await triggered("flaky", { n: 1 });
    for (const id of [delivered, failed]) {
      const r = await stack.cli(["logs", "--message", id]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split("\n")).toEqual(linesOf(devLog.join("\n"), id));
    }
    const flaky = await stack.cli(["logs", "--message", failed]);
    expect(flaky.stdout).toMatch(
      new RegExp(
        `RETRY +${failed} → ${stack.baseUrl}/flaky \\(500, retried 0/2, next at \\d\\d:\\d\\d:\\d\\d, in \\d+ms\\): Error: database unavailable \\(n=1\\)`,
      ),
    );
  });

  it("filters by job (its callbacks included), state and time", async () => {
    const a = await triggered("greet", { name: "Bo" });
    const b = await triggered("bounce", { email: "bo@bounce.test" });
    const greet = await stack.cli(["logs", "--job", "greet", "--limit", "1000"]);
    expect(greet.stdout).toContain(` ${a} → ${stack.baseUrl}/greet`);
    expect(greet.stdout).not.toContain(b);
    // greet has onSuccess: its callback is a message to the job's URL, shown as such.
    expect(greet.stdout).toMatch(
      new RegExp(`DELIVERED +msg_\\w+ → ${stack.baseUrl}/greet\\?callback=success \\(callback, 200`),
    );

    const failed = await stack.cli(["logs", "--state", "failed", "--json"]);
    const events = failed.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.state))).toEqual(new Set(["FAILED"]));
    expect(events).toContainEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      messageId: b,
      state: "FAILED",
      jobId: "bounce",
      url: `${stack.baseUrl}/bounce`,
      status: 489,
      maxRetries: 0,
      error: expect.any(String),
      reason: "bo@bounce.test bounced",
    });

    const none = await stack.cli(["logs", "--since", "2099-01-01T00:00:00Z"]);
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: "jobstash logs: no events match\n" });
    const recent = await stack.cli(["logs", "--since", "1h", "--job", "bounce"]);
    expect(recent.stdout).toContain(b);
  });

  it("--follow prints new events as they happen, and stops on Ctrl-C with exit 0", async () => {
    const follow = stack.start(["logs", "--follow", "--job", "greet", "--limit", "1"]);
    await follow.waitFor(/greet/);
    const id = (await stack.cli(["trigger", "greet", '{"name":"Cy"}'])).stdout.trim();
    await follow.waitFor(new RegExp(`DELIVERED +${id} → `));
    follow.child.kill("SIGINT");
    expect(await follow.exited).toBe(0);
    // Each event once, though the polls overlap at the newest time.
    expect(linesOf(follow.stdout(), id)).toEqual(linesOf(devLog.join("\n"), id));
  });

  it("bad input: exit 2, saying what to fix", async () => {
    const state = await stack.cli(["logs", "--state", "FAILD"]);
    expect(state).toMatchObject({ code: 2 });
    expect(state.stderr).toMatch(
      /^jobstash logs: unknown --state "FAILD"; did you mean FAILED\? \(one of CREATED, /,
    );
    const since = await stack.cli(["logs", "--since", "yesterday"]);
    expect(since.stderr).toMatch(/^jobstash logs: --since "yesterday" is neither a duration/);
    const job = await stack.cli(["logs", "--job", "nope"]);
    expect(job.stderr).toMatch(/^jobstash logs: unknown job "nope" \(known jobs: /);
    const noBase = await stack.cli(["logs", "--job", "greet"], { JOBSTASH_BASE_URL: "" });
    expect(noBase.stderr).toMatch(
      /^jobstash logs: --job needs the URL the job's messages go to: set JOBSTASH_BASE_URL/,
    );
  });
});
