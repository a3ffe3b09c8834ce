import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { EnvSource } from "../config.js";
import { jobDefaults } from "../job/define.js";
import type { AnyJob, JobContext, Logger, Schema } from "../job/types.js";
import { FORWARDED } from "../jobstash.js";
import type { DeliveryRequest } from "./handler.js";
import { logPrefix, nonRetryable, type Reply, success, thrownMessage } from "./respond.js";
import { LazyAbort, underTimeout } from "./timeout.js";

/** What running a job or a hook needs from the request. */
export interface Base {
  job: AnyJob;
  env: EnvSource;
  waitUntil: (promise: Promise<unknown>) => void;
  logger: Logger;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** JSON from bytes; an empty body is `undefined` (a job whose input schema allows it). */
export function parseJson(bytes: Uint8Array, what: string): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw nonRetryable("INVALID_JSON", `${what} is not valid UTF-8 JSON`);
  }
}

export async function validate(schema: Schema, value: unknown, code: string, what: string): Promise<unknown> {
  const result = await schema["~standard"].validate(value);
  if (result.issues) throw nonRetryable(code, `${what} does not match the schema`, result.issues);
  return (result as StandardSchemaV1.SuccessResult<unknown>).value;
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

export function context(base: Base, meta: MessageMeta, abort: LazyAbort): JobContext {
  const { job } = base;
  const defaults = jobDefaults(job);
  const messageId = meta.messageId ?? "";
  const retried = meta.retried ?? 0;
  let logger: Logger | undefined;
  return {
    jobId: job.id,
    messageId,
    attempt: retried + 1,
    retried,
    maxRetries: meta.maxRetries ?? defaults.retries,
    scheduleId: meta.scheduleId || undefined,
    label: meta.label ?? defaults.label,
    // Getters, so requests whose job never reads them do not pay for them.
    get signal() {
      return abort.controller.signal;
    },
    env: base.env,
    waitUntil: base.waitUntil,
    get logger() {
      logger ??= prefixed(base.logger, logPrefix(job.id, messageId));
      return logger;
    },
  };
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
  const input = await validate(
    job.input,
    parseJson(body, "the body"),
    "INVALID_PAYLOAD",
    `the input of job "${job.id}"`,
  );
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
  let output = await underTimeout(base, ctx, abort, "run", input, ctx);
  if (job.output)
    output = await validate(job.output, output, "INVALID_OUTPUT", `the output of job "${job.id}"`);
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
