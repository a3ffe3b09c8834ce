import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { EnvSource } from "../config.js";
import { jobDefaults } from "../job/define.js";
import type { AnyJob, JobContext, Logger, Schema } from "../job/types.js";
import { FORWARDED } from "../protocol.js";
import type { DeliveryRequest } from "./handler.js";
import { andThen, isThenable, type Maybe } from "./maybe.js";
import { logPrefix, nonRetryable, type Reply, success, thrownMessage } from "./respond.js";
import { LazyAbort, timeoutOf, underTimeout } from "./timeout.js";

/** What running a job or a hook needs from the request. */
export interface Base {
  job: AnyJob;
  env: EnvSource;
  waitUntil: (promise: Promise<unknown>) => void;
  logger: Logger;
}

const lenient = new TextDecoder("utf-8");
const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * UTF-8 text of bytes; throws on invalid UTF-8. The lenient decoder is the faster one by half:
 * it marks invalid bytes with U+FFFD, and only text holding one (invalid, or a U+FFFD of its
 * own) is decoded again by the strict one, which then decides.
 */
function utf8(bytes: Uint8Array): string {
  const text = lenient.decode(bytes);
  return text.includes("\uFFFD") ? strict.decode(bytes) : text;
}

/** JSON from bytes; an empty body is `undefined` (a job whose input schema allows it). */
export function parseJson(bytes: Uint8Array, what: string): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(utf8(bytes));
  } catch {
    throw nonRetryable("INVALID_JSON", `${what} is not valid UTF-8 JSON`);
  }
}

/**
 * The schema's value for `value`, or a 489 naming the job's `part` ("input", "output") with the
 * issues. Synchronous when the schema is: most are, and this runs on every delivery.
 */
function validate(schema: Schema, value: unknown, code: string, part: string, job: AnyJob): Maybe<unknown> {
  return andThen(schema["~standard"].validate(value), (result) => {
    if (result.issues) {
      throw nonRetryable(code, `the ${part} of job "${job.id}" does not match the schema`, result.issues);
    }
    return (result as StandardSchemaV1.SuccessResult<unknown>).value;
  });
}

const LEVELS = ["debug", "info", "warn", "error"] as const;

function prefixed(logger: Logger, prefix: string): Logger {
  const out = {} as Logger;
  for (const level of LEVELS)
    out[level] = (message, ...args) => logger[level](`${prefix} ${message}`, ...args);
  return out;
}

/** What a delivery or a callback says about the message; the job's defaults fill the gaps. */
interface MessageMeta {
  messageId?: string | null;
  retried?: number;
  maxRetries?: number;
  scheduleId?: string | null;
  label?: string | null;
}

/**
 * A job's `ctx`. A class, not an object literal: a literal with getters is built as a
 * dictionary-mode object, property by property, on every delivery. `signal` and `logger` are
 * getters, so requests whose job never reads them do not pay for them.
 */
class DeliveryContext implements JobContext {
  readonly jobId: string;
  readonly messageId: string;
  readonly attempt: number;
  readonly retried: number;
  readonly maxRetries: number;
  readonly scheduleId: string | undefined;
  readonly label: string;
  readonly env: EnvSource;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  #abort: LazyAbort;
  #logger: Logger;
  #prefixed: Logger | undefined;

  constructor(base: Base, meta: MessageMeta, abort: LazyAbort) {
    const { job } = base;
    const defaults = jobDefaults(job);
    this.jobId = job.id;
    this.messageId = meta.messageId ?? "";
    this.retried = meta.retried ?? 0;
    this.attempt = this.retried + 1;
    this.maxRetries = meta.maxRetries ?? defaults.retries;
    this.scheduleId = meta.scheduleId || undefined;
    this.label = meta.label ?? defaults.label;
    this.env = base.env;
    this.waitUntil = base.waitUntil;
    this.#abort = abort;
    this.#logger = base.logger;
  }

  get signal(): AbortSignal {
    return this.#abort.controller.signal;
  }

  get logger(): Logger {
    this.#prefixed ??= prefixed(this.#logger, logPrefix(this.jobId, this.messageId));
    return this.#prefixed;
  }
}

export function context(base: Base, meta: MessageMeta, abort: LazyAbort): JobContext {
  return new DeliveryContext(base, meta, abort);
}

function intHeader(value: string | null | undefined): number | undefined {
  const n = Number(value);
  return value != null && value !== "" && Number.isInteger(n) && n >= 0 ? n : undefined;
}

export async function runJob(
  base: Base,
  body: Uint8Array,
  headers: DeliveryRequest["headers"],
): Promise<Reply> {
  const { job } = base;
  // Each step is awaited only when it answered with a promise (see maybe.ts).
  let input = validate(job.input, parseJson(body, "the body"), "INVALID_PAYLOAD", "input", job);
  if (isThenable(input)) input = await input;
  const abort = new LazyAbort();
  const ctx = context(
    base,
    {
      messageId: headers.get("upstash-message-id"),
      retried: intHeader(headers.get("upstash-retried")),
      maxRetries: intHeader(headers.get(FORWARDED.maxRetries)),
      scheduleId: headers.get("upstash-schedule-id"),
      label: headers.get(FORWARDED.label),
    },
    abort,
  );
  // A timeout passed to trigger overrides the job's, as it does for QStash.
  const timeoutMs = intHeader(headers.get(FORWARDED.timeout)) || timeoutOf(job);
  let output = underTimeout(base, ctx, abort, "run", timeoutMs, input, ctx);
  if (isThenable(output)) output = await output;
  if (job.output) {
    output = validate(job.output, output, "INVALID_OUTPUT", "output", job);
    if (isThenable(output)) output = await output;
  }
  try {
    return success(output);
  } catch (error) {
    // JSON.stringify throws on a bigint or a cycle. The job's work is done; a retry would redo it and fail alike.
    throw nonRetryable(
      "INVALID_OUTPUT",
      `the output of job "${job.id}" cannot be sent as JSON: ${thrownMessage(error)}`,
    );
  }
}
