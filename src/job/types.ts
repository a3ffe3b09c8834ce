import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Duration } from "../util/duration.js";
import type { Jsonify, JsonResult } from "../util/json.js";

/** Any schema that implements Standard Schema: zod 4, valibot, arktype, ... */
export type Schema = StandardSchemaV1;
/** What a caller passes for a schema (before transforms and defaults). */
export type SchemaInput<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never;
/** What a schema produces after parsing. */
export type SchemaOutput<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;

type MaybePromise<T> = T | Promise<T>;

/** A logger the job writes to; `console` fits. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/**
 * QStash flow control for a job's messages: at most `parallelism` in flight and `rate`
 * started per `period`, across every message that shares `key`.
 */
export interface FlowControl {
  /** Messages with the same key share the limits. */
  key: string;
  /** Maximum number of deliveries in flight at once. */
  parallelism?: number;
  /** Maximum number of deliveries started per `period`. */
  rate?: number;
  /** The window `rate` counts in. @default "1s" */
  period?: Duration;
}

/** A cron schedule that triggers the job with a fixed input. */
export interface ScheduleDefinition<TInput> {
  /** Five-field cron expression, e.g. `"0 9 * * 1"` (09:00 every Monday). */
  cron: string;
  /** IANA time zone the cron is read in. @default "UTC" */
  tz?: string;
  /** The input each run receives; checked against the job's schema when the job is defined. */
  input?: TInput;
  /** Stable name of this schedule within the job; sync derives the QStash schedule id from it. @default its index */
  id?: string;
}

/** What every delivery hands to `run`, `onSuccess` and `onFailure`. */
export interface JobContext {
  /** The job's id. */
  jobId: string;
  /** QStash message id; the same on every attempt. */
  messageId: string;
  /** 1 on the first attempt, 2 on the first retry, ... */
  attempt: number;
  /** Retries done before this attempt (QStash's `Upstash-Retried`). */
  retried: number;
  /** How many retries the message has in all. */
  maxRetries: number;
  /** The QStash schedule that produced the message, if any. */
  scheduleId: string | undefined;
  /** The message's label (the job id unless the trigger set another). */
  label: string;
  /** Aborted when the job's `timeout` passes; pass it to fetch and friends. */
  signal: AbortSignal;
  /** Writes lines prefixed with the job id and message id. */
  logger: Logger;
  /** The request's bindings (Workers), else `process.env`; trigger with them: `jobs.withEnv(ctx.env)`. */
  env: Record<string, unknown>;
  /** Keeps background work alive after the response where the runtime supports it (Workers, Vercel). */
  waitUntil(promise: Promise<unknown>): void;
}

/** How the job failed, as QStash reports it to the failure callback. */
export interface JobFailure {
  /** HTTP status of the last attempt (489 for a non-retryable error, 0 if no response). */
  status: number;
  /** The last attempt's response body, as text. */
  body: string;
  /** The error message jobstash put in that body, or the body itself. */
  message: string;
}

/** Options shared by the definition and each trigger call (per call wins). */
export interface DeliveryOptions {
  /** Retries after the first attempt. @default 3 */
  retries?: number;
  /**
   * Delay between retries: milliseconds, or a QStash expression of `retried` such as
   * `"pow(2, retried) * 1000"`. @default QStash's exponential backoff
   */
  retryDelay?: number | string;
  /** How long one attempt may take; `ctx.signal` aborts then. */
  timeout?: Duration;
  /** Wait this long before the first delivery. */
  delay?: Duration;
  /** Label shown in QStash logs and usable as a DLQ filter. @default the job id */
  label?: string;
  /** Send through this QStash queue (FIFO) instead of publishing directly. */
  queue?: string;
}

/** What `defineJob` takes. */
export interface JobDefinition<
  TId extends string,
  TInput extends Schema,
  TReturn,
  TOutput extends Schema | undefined,
> extends DeliveryOptions {
  /** Unique id; the job's URL is `<baseUrl>/<id>`. Letters, digits, `.`, `_` and `-`. */
  id: TId;
  /** Schema of the input; checked on trigger and again on delivery. */
  input: TInput;
  /**
   * Optional schema of the output. `run` must return its input type; the result is checked
   * before it is sent back, and checked again on the JSON QStash's success callback returns, so
   * `onSuccess` gets the schema's output type. That second pass sees JSON, so the schema must
   * accept the JSON form of its own output: `z.coerce.date()` rather than `z.date()`, no
   * transform whose result it would reject.
   */
  output?: TOutput;
  /** Flow-control limits, fixed or computed from each input. */
  flowControl?: FlowControl | ((input: SchemaOutput<TInput>) => FlowControl);
  /** Cron schedules that trigger this job. */
  schedules?: readonly ScheduleDefinition<SchemaInput<TInput>>[];
  /** The job. Throw `NonRetryableError` to fail for good, `RetryAfterError` to retry later. */
  run(
    input: SchemaOutput<TInput>,
    ctx: JobContext,
  ): MaybePromise<HasSchema<TOutput> extends true ? SchemaInput<TOutput> : TReturn>;
  /**
   * Runs once, after the attempt that succeeded (QStash success callback). `output` comes back
   * through QStash as JSON: with an `output` schema it is that schema's output type, else what
   * `run` returned after a JSON round trip ({@link Jsonify}: a `Date` arrives as a string).
   */
  onSuccess?(args: {
    input: SchemaOutput<TInput>;
    output: JobOutput<TReturn, TOutput>;
    ctx: JobContext;
  }): MaybePromise<unknown>;
  /** Runs once, when retries are exhausted or the job failed non-retryably (QStash failure callback). */
  onFailure?(args: {
    input: SchemaOutput<TInput>;
    error: JobFailure;
    dlqId: string | undefined;
    ctx: JobContext;
  }): MaybePromise<unknown>;
}

/**
 * What `onSuccess` receives. The output reaches it through QStash as JSON, so without an
 * output schema it is the JSON round trip of what `run` returned ({@link Jsonify}: dates as
 * strings, no `undefined` properties or methods, `undefined` when `run` returned nothing);
 * with one it is the schema's output, parsed from that JSON.
 */
export type JobOutput<TReturn, TOutput> =
  HasSchema<TOutput> extends true ? SchemaOutput<TOutput> : JsonResult<Awaited<TReturn>>;

/**
 * Whether a job has an `output` schema (`TOutput` is `undefined` when it has none). Asked as
 * "is it `undefined`" first: without `strictNullChecks` (`next build` writes a tsconfig with
 * `"strict": false`) `undefined` is assignable to every type, so `undefined extends Schema`
 * holds there and a job without a schema would be typed as if it had one, returning `unknown`.
 */
type HasSchema<TOutput> = [TOutput] extends [undefined] ? false : [TOutput] extends [Schema] ? true : false;

/** A schedule after definition: id filled in, tz defaulted. */
export interface JobSchedule {
  id: string;
  cron: string;
  tz: string;
  input: unknown;
}

/** A defined job. Pass it to `createJobstash`. */
export interface Job<TId extends string = string, TInput extends Schema = Schema, TOutput = unknown> {
  readonly id: TId;
  readonly input: TInput;
  readonly output: Schema | undefined;
  readonly schedules: readonly JobSchedule[];
  /** The definition as given (defaults are applied where it is used). */
  readonly definition: JobDefinition<TId, TInput, unknown, Schema | undefined>;
  /** Type-only: never read at run time. */
  readonly "~types"?: { input: SchemaInput<TInput>; parsed: SchemaOutput<TInput>; output: TOutput };
}

/** Any job, whatever its types. */
export type AnyJob = Job<string, any, any>;

/** The input a caller passes to trigger a job. */
export type JobInput<J> = J extends Job<string, infer S, unknown> ? SchemaInput<S> : never;
