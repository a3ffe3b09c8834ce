import type { AnyJob, Jobstash } from "jobstash";
import { TestHarness } from "./harness.js";
import type { TestJobstash, TestJobstashOptions } from "./types.js";

export { type PendingMessage, TestHarnessError, type TestHarnessErrorCode } from "./errors.js";
export type {
  AttemptError,
  AttemptOutcome,
  AttemptRecord,
  DeliveredInput,
  DlqRecord,
  DrainOptions,
  HookRecord,
  MessageRecord,
  MessageState,
  RunRecord,
  StepSummary,
  TestJobstash,
  TestJobstashOptions,
} from "./types.js";

/**
 * Test a registry's jobs in process: the local QStash engine of `jobstash dev` on a virtual
 * clock, delivering each signed request to the real receiver (`createHandler(jobs)`) with no
 * port and no network. Retries and their backoff, `Retry-After`, the DLQ, `onSuccess` and
 * `onFailure`, delays, deduplication, queues, flow control and every job's cron schedules
 * behave as QStash's do, in virtual time that moves only on `advance` and `drain`.
 *
 * While the harness is open, `jobs.trigger` and `jobs.batch` (a job triggering another, or the
 * code under test) publish into it instead of QStash. Close it after each test.
 *
 * @example
 * const t = createTestJobstash(jobs, { now: "2026-03-29T00:30:00Z" });
 * const id = await t.trigger("send-welcome", { userId: "u1", email: "a@b.co" }, { delay: "10m" });
 * await t.advance("10m");
 * expect(t.runs("send-welcome").map((r) => r.outcome)).toEqual(["success"]);
 * await t.close();
 */
export function createTestJobstash<const TJobs extends readonly AnyJob[]>(
  jobs: Jobstash<TJobs>,
  options?: TestJobstashOptions,
): TestJobstash<TJobs> {
  return new TestHarness(jobs, options);
}
