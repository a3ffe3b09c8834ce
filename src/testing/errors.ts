import { JobstashError } from "jobstash";

/** What went wrong, for tests that check it: `rejects.toMatchObject({ code: "DRAIN_HORIZON" })`. */
export type TestHarnessErrorCode =
  /** `runs`, `dlq` or `trigger` named a job the registry does not have. */
  | "UNKNOWN_JOB"
  /** `message` or `cancel` named a message the harness never saw (or, for `cancel`, one already final). */
  | "UNKNOWN_MESSAGE"
  /** An option or argument the harness cannot use: a negative or unparsable duration, a bad `now`. */
  | "BAD_ARGUMENT"
  /** `drain` reached its horizon with messages still pending. */
  | "DRAIN_HORIZON"
  /** `drain` found pending messages that nothing will ever move (a paused queue or flow-control key). */
  | "STUCK"
  /** An attempt of a job with no timeout ran past `attemptTimeout` (real time). */
  | "NEVER_SETTLED"
  /** `advance` or `drain` was called while another was still running. */
  | "BUSY"
  /** The harness was used after `close()`. */
  | "CLOSED"
  /** `jobs.trigger` was called outside any delivery while two harnesses are open on the registry. */
  | "AMBIGUOUS_HARNESS";

/** A message still pending when `drain` gave up, and why it has not been delivered. */
export interface PendingMessage {
  messageId: string;
  jobId: string;
  /** Set when the message is a callback: the hook it runs. */
  hook?: "onSuccess" | "onFailure";
  /** The engine's phase: delayed, waiting (in a queue or at flow control), active (in flight) or retry. */
  state: "delayed" | "waiting" | "active" | "retry";
  /** Why it is still pending, e.g. `retry 2 of 3 due at 2026-03-30T01:00:00.000Z`. */
  reason: string;
  /** When it is next due, for delayed messages and retries. */
  dueAt?: Date;
}

/**
 * Misuse of the test harness, or a test that cannot finish (a drain past its horizon, a job
 * that never settles). `code` says which; `pending` lists what was still pending, for the drain
 * errors. Failures of the jobs themselves are not thrown: they are in `t.runs()` and `t.dlq()`.
 */
export class TestHarnessError extends JobstashError {
  static override readonly kind: string = "TestHarnessError";
  readonly code: TestHarnessErrorCode;
  readonly pending: readonly PendingMessage[] | undefined;
  constructor(
    code: TestHarnessErrorCode,
    message: string,
    options?: { pending?: readonly PendingMessage[]; cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.pending = options?.pending;
  }
}
