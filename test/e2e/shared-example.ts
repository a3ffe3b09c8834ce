import { syncJobstash } from "jobstash/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../../examples/shared/jobs.js";
import { expectDeadLetteredOnce, type Harness, lineIn, startHarness } from "./harness.js";

/** An example app serving examples/shared/jobs.ts, running against the test's dev server. */
export interface RunningExample {
  /** Where its receiver is mounted, e.g. `http://127.0.0.1:1234/api/jobs`. */
  baseUrl: string;
  /** Its route that triggers `send-welcome` from `{ email, name }`. */
  signupUrl: string;
  /** What it has logged so far, one entry per line. */
  output(): string[];
  close(): Promise<void>;
}

/**
 * The issue's end-to-end scenarios for an example serving the shared jobs (Hono, Express,
 * Next.js): `start` gets the QStash settings a deployment would set and starts the app with
 * them. This process gets them too (plus JOBSTASH_BASE_URL), to trigger and sync the same
 * registry the app serves.
 */
export function sharedExampleScenarios(
  name: string,
  start: (env: Harness["env"]) => Promise<RunningExample>,
  options: { startTimeout?: number } = {},
): void {
  describe(`the ${name} example on the jobstash dev server`, () => {
    let harness: Harness;
    let example: RunningExample | undefined;
    const output = () => example?.output() ?? [];
    const line = (pattern: RegExp) => lineIn(output, pattern);

    beforeAll(async () => {
      harness = await startHarness({ output });
      example = await start(harness.env);
      Object.assign(process.env, harness.env, { JOBSTASH_BASE_URL: example.baseUrl });
    }, options.startTimeout);

    afterAll(async () => {
      await example?.close();
      await harness?.close();
    });

    async function signup(email: string, name: string): Promise<string> {
      const response = await fetch(example!.signupUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, name }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { messageId: string }).messageId;
    }

    it("refuses a signup whose input fails the job's schema with 400 and the issues", async () => {
      const response = await fetch(example!.signupUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "not an address", name: "Eve" }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ issues: [{ path: ["email"] }] });
    });

    it("delivers a triggered job, verified, and its success callback reaches onSuccess", async () => {
      const messageId = await signup("ada@example.com", "Ada");
      await harness.until("onSuccess", line(/onSuccess: welcome mail for Ada delivered to ada@example.com/));
      expect(output()).toContainEqual(
        expect.stringMatching(new RegExp(`\\[jobstash send-welcome ${messageId}\\] attempt 1/3`)),
      );
      const { logs } = await harness.client.logs({ filter: { messageId } });
      const delivered = logs.find((log) => log.state === "DELIVERED");
      expect(delivered?.url).toBe(`${example!.baseUrl}/send-welcome`);
      // The receiver answered 200 with the job's output: the signature verified and the job ran.
      // (The SDK's Log type omits responseBody, which QStash and the dev server return, base64.)
      const { responseBody } = delivered as { responseBody?: string };
      expect(JSON.parse(Buffer.from(responseBody!, "base64").toString())).toEqual({
        delivered: true,
        to: "ada@example.com",
      });
    });

    it("retries a failing job until it gives up, then runs onFailure with the DLQ id", async () => {
      const messageId = await signup("bob@fail.test", "Bob");
      const failure = await harness.until("onFailure", line(/onFailure: gave up on bob@fail.test/));
      expect(output().filter((l) => l.includes(`[jobstash send-welcome ${messageId}] attempt`))).toHaveLength(
        3,
      );
      const { messages } = await harness.client.dlq.listMessages({ filter: { messageId } });
      expect(messages).toHaveLength(1);
      expect(failure).toContain("after 2 retries (Error: mail server refused bob@fail.test)");
      expect(failure).toContain(`DLQ ${messages[0]!.dlqId}`);
    });

    it("sends a non-retryable failure to the DLQ after one attempt", async () => {
      const messageId = await jobs.trigger("verify-address", { email: "nobody" });
      await expectDeadLetteredOnce(harness, messageId, '\\"nobody\\" is not an email address');
    });

    it("fires the cron schedule `syncJobstash` created into the job with its schedule id", async () => {
      const { report } = await syncJobstash(jobs, { env: "development" });
      const scheduleId = "jobstash-examples.development.heartbeat.every-minute";
      expect(report?.created.join("\n")).toContain(scheduleId);
      const schedule = await harness.client.schedules.get(scheduleId);
      expect([schedule.destination, schedule.cron]).toEqual([`${example!.baseUrl}/heartbeat`, "* * * * *"]);
      await harness.until(
        "a heartbeat",
        line(new RegExp(`beat from cron \\(schedule ${scheduleId.replaceAll(".", "\\.")}\\)`)),
        { stepMs: 10_000 },
      );
    });
  });
}
