import type { AnyJob, Duration, EnvSource, JobInput, Jobstash, Jsonify, Logger } from "jobstash";

/** The ids of a registry's jobs. */
type JobId<TJobs extends readonly AnyJob[]> = TJobs[number]["id"];

/** A job's input as it arrived: the JSON of what was triggered (a `Date` arrives as a string). */
export type DeliveredInput<TJobs extends readonly AnyJob[], TId> = Jsonify<
  JobInput<Extract<TJobs[number], { id: TId }>>
>;

/** Options of {@link createTestJobstash}. */
export interface TestJobstashOptions {
  /**
   * The virtual time the harness starts at: a `Date`, an ISO 8601 string or epoch milliseconds.
   * Only the queue's time is virtual: code in a job still reads the real `Date.now()`.
   * @default the real time now
   */
  now?: Date | string | number;
  /**
   * The variables jobs see as `ctx.env`, and where settings are read from before `process.env`.
   * The harness adds what the receiver needs and the environment lacks: a base URL
   * (`http://jobstash.test/api/jobs`) and signing keys (a dev user's); nothing has to be set
   * for a test to run, and no variable is written.
   * @default the registry's `env` option, else `process.env`
   */
  env?: EnvSource;
  /**
   * Real time one attempt may take when neither the job nor the trigger sets a `timeout`. Past
   * it the attempt counts as timed out (QStash's HTTP timeout) and `advance` or `drain` rejects
   * with a `NEVER_SETTLED` error naming the job: well before a test runner's own 5 s limit.
   * A job's `timeout` runs on real time too (the receiver's timer), so keep it short in tests.
   * @default "2s"
   */
  attemptTimeout?: Duration;
  /**
   * Where the receiver writes in this harness: its line per failed attempt and the jobs'
   * `ctx.logger`. Give a silent or collecting logger to keep a test's output clean, or to
   * assert on what a job logged.
   * @default the registry's `logger`, else `console`
   */
  logger?: Logger;
}

/** Options of `drain`. */
export interface DrainOptions {
  /**
   * How much virtual time `drain` may cover before it gives up with a `DRAIN_HORIZON` error
   * listing what is still pending and why.
   * @default "30d"
   */
  horizon?: Duration;
}

/** What the receiver answered to a failed attempt, as plain data. */
export interface AttemptError {
  /** The HTTP status: 489 for a non-retryable error, 429 for `RetryAfterError`, 0 without a response. */
  status: number;
  /**
   * The receiver's error code: `JOB_FAILED` (run threw), `NON_RETRYABLE`, `RETRY_AFTER`,
   * `INVALID_PAYLOAD`, `TIMEOUT`, ...; `NO_RESPONSE` when the attempt timed out unanswered.
   */
  code: string;
  /** The error message (for a thrown error: `"<name>: <message>"`). */
  message: string;
  /** Schema issues, when the input or output did not match. */
  issues?: { path: string; message: string }[];
}

/** What QStash does after an attempt. */
export type AttemptOutcome = "success" | "retry" | "failed" | "cancelled";

/** What every attempt records: one delivery of a message to the receiver, and its answer. */
export interface AttemptRecord<TInput = unknown> {
  messageId: string;
  jobId: string;
  /** The job's input as delivered (the JSON-decoded body of the job's message). */
  input: TInput;
  /** 1 for the first attempt, 2 for the first retry, ... (`ctx.attempt`). */
  attempt: number;
  /** Virtual time of the attempt. */
  time: Date;
  /** The HTTP status the receiver answered; 0 when it did not answer in time. */
  status: number;
  /** `success`; `retry` (another attempt is due at `retryAt`); `failed` (into the DLQ); `cancelled`. */
  outcome: AttemptOutcome;
  /** Why the attempt failed, when it did. */
  error?: AttemptError;
  /** When the next attempt is due, for `outcome: "retry"`. */
  retryAt?: Date;
}

/** One attempt of a job. */
export interface RunRecord<TInput = unknown> extends AttemptRecord<TInput> {
  /** What `run` returned, as JSON, when the attempt succeeded. */
  output?: unknown;
  /** The schedule that produced the message, for cron runs. */
  scheduleId?: string;
}

/**
 * One delivery of a callback that ran `onSuccess` or `onFailure`: `messageId` is the callback's
 * own message, and `attempt` counts its deliveries (a hook that throws is retried like a job).
 */
export interface HookRecord<TInput = unknown> extends AttemptRecord<TInput> {
  hook: "onSuccess" | "onFailure";
  /** The message whose outcome the callback reports. */
  sourceMessageId: string;
}

/** A message's state: pending (`delayed`, `waiting`, `active`, `retry`) or final. */
export type MessageState = "delayed" | "waiting" | "active" | "retry" | "delivered" | "failed" | "cancelled";

/** One message as the harness saw it, with every attempt. */
export interface MessageRecord {
  messageId: string;
  jobId: string;
  /** Set when the message is a callback: the hook it runs. */
  hook?: "onSuccess" | "onFailure";
  /** For a callback, the message it reports on. */
  sourceMessageId?: string;
  /** The job's input, as delivered. */
  input: unknown;
  state: MessageState;
  createdAt: Date;
  /** When the first delivery was due (after `delay` or `notBefore`). */
  notBefore: Date;
  /** Retries done so far, and allowed in all. */
  retried: number;
  maxRetries: number;
  /** The next attempt's time, while the message waits for a retry or its delay. */
  dueAt?: Date;
  queue?: string;
  flowControlKey?: string;
  scheduleId?: string;
  /** Every attempt, in order (for a callback message: every delivery of the callback). */
  attempts: (RunRecord | HookRecord)[];
  /** The `onSuccess` / `onFailure` deliveries that ran for this message. */
  callbacks: HookRecord[];
  /** Set once the message failed for good. */
  dlqId?: string;
}

/** A message in the dead-letter queue. */
export interface DlqRecord<TInput = unknown> {
  dlqId: string;
  messageId: string;
  jobId: string;
  /** Set when a callback (its hook kept failing) is what landed in the DLQ. */
  hook?: "onSuccess" | "onFailure";
  /** The job's input, as delivered. */
  input: TInput;
  /** Virtual time it failed for good. */
  time: Date;
  /** Attempts made in all. */
  attempts: number;
  /** The last attempt's status (489: non-retryable; 0: no response). */
  status: number;
  /** The failure reason: the last error's message. */
  reason: string;
  error: AttemptError;
}

/** What one `advance` or `drain` did. */
export interface StepSummary {
  /** Virtual time before and after. */
  from: Date;
  to: Date;
  /** The job attempts made, in order. */
  runs: RunRecord[];
  /** The `onSuccess` / `onFailure` deliveries that ran. */
  hooks: HookRecord[];
  /** The messages that failed for good. */
  dlq: DlqRecord[];
}

/** The harness `createTestJobstash` returns. */
export interface TestJobstash<TJobs extends readonly AnyJob[] = readonly AnyJob[]> {
  /**
   * `jobs.trigger`, into the harness: validated as in production, accepted by the local QStash
   * engine with the headers the real trigger sends. Resolves to the message id. A message with
   * no delay goes out now, and runs at the next `advance` or `drain`.
   */
  trigger: Jobstash<TJobs>["trigger"];
  /** `jobs.batch`, into the harness: every item is validated before any is accepted. */
  batch: Jobstash<TJobs>["batch"];
  /**
   * Moves virtual time forward by `duration` (seconds, or `"10m"`, `"1h30m"`, ...), running
   * every delivery, retry, callback and cron tick due by then, in time order, each settled
   * before the next. `advance(0)` runs what is due now.
   */
  advance(duration: Duration | string): Promise<StepSummary>;
  /**
   * Runs until no message is pending (callbacks included), moving virtual time from one due
   * event to the next. Cron schedules keep ticking while messages are pending, but do not keep
   * `drain` going on their own. Rejects with `DRAIN_HORIZON` past the horizon, or `STUCK` when
   * what is pending can never move (a paused queue or flow-control key).
   */
  drain(options?: DrainOptions): Promise<StepSummary>;
  /** Every attempt of a job (of every job without an id), in order. */
  runs<TId extends JobId<TJobs> = JobId<TJobs>>(jobId?: TId): RunRecord<DeliveredInput<TJobs, TId>>[];
  /** The dead-letter queue: a job's entries (every entry without an id), oldest first. */
  dlq<TId extends JobId<TJobs> = JobId<TJobs>>(jobId?: TId): DlqRecord<DeliveredInput<TJobs, TId>>[];
  /** One message (a job's, or a callback's) with its state and attempts. */
  message(messageId: string): MessageRecord;
  /**
   * Cancels a pending message, as QStash's `DELETE /v2/messages/:id`. One already handed to the
   * receiver (it has no delay and no `advance` ran since) finishes its attempt and ends cancelled.
   */
  cancel(messageId: string): void;
  /** The virtual time. */
  now(): Date;
  /** Detaches from the registry (`jobs.trigger` publishes to QStash again) and stops the engine. */
  close(): Promise<void>;
}
