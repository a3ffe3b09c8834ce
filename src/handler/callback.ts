import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { JobFailure } from "../job/types.js";
import { FORWARDED } from "../protocol.js";
import { base64ToBytes } from "../util/base64.js";
import { type Base, context, parseJson } from "./job.js";
import { type HttpFailure, ignored, log, logPrefix, nonRetryable, type Reply, success } from "./respond.js";
import { LazyAbort, timeoutOf, underTimeout } from "./timeout.js";

/** The JSON QStash posts to callback URLs (fields this handler reads). */
interface CallbackPayload {
  status?: number;
  body?: string;
  retried?: number;
  maxRetries?: number;
  dlqId?: string;
  sourceMessageId?: string;
  scheduleId?: string;
  sourceHeader?: Record<string, string | string[]>;
  sourceBody?: string;
  /** Only from `jobstash dev`: the response body was cut (QStash cuts without saying so). */
  jobstashBodyTruncated?: { size?: number; kept?: number };
}

/** The failure for an output the callback says was cut, naming the cut instead of the JSON. */
function cutOutput(base: Base, payload: CallbackPayload): HttpFailure | undefined {
  const cut = payload.jobstashBodyTruncated;
  if (typeof cut !== "object" || cut === null) return undefined;
  // The receiver's failure line (a warning) carries this message; the callback goes to the DLQ.
  return nonRetryable(
    "OUTPUT_TRUNCATED",
    `onSuccess of job "${base.job.id}" cannot run: the job's output (${cut.size} bytes) was cut to its first ${cut.kept} bytes on its way back (the server keeps no more of a response); return less (store a large result elsewhere and return where it is), or raise the server's maxBodySize`,
  );
}

function headerOf(headers: CallbackPayload["sourceHeader"], name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function decodeBase64(text: string | undefined, what: string): Uint8Array {
  if (!text) return new Uint8Array(0);
  try {
    return base64ToBytes(text);
  } catch {
    throw nonRetryable("INVALID_CALLBACK", `${what} in the callback is not base64`);
  }
}

/** Our own error bodies carry `error.message`; anything else is shown as it came. */
function failureMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } })?.error?.message;
    if (typeof message === "string") return message;
  } catch {}
  return body;
}

export async function runCallback(base: Base, kind: "success" | "failure", body: Uint8Array): Promise<Reply> {
  const { job } = base;
  const hook = kind === "success" ? job.definition.onSuccess : job.definition.onFailure;
  if (!hook) return ignored(`job "${job.id}" has no on${kind === "success" ? "Success" : "Failure"} hook`);

  const payload = parseJson(body, "the callback body") as CallbackPayload | undefined;
  if (typeof payload !== "object" || payload === null || typeof payload.status !== "number") {
    throw nonRetryable(
      "INVALID_CALLBACK",
      "the callback body is not a QStash callback payload (no numeric status)",
    );
  }
  const ok = payload.status >= 200 && payload.status < 300;
  // QStash calls the success callback after every attempt; only the one that succeeded counts.
  if (kind === "success" && !ok) {
    return ignored(
      `attempt ${(payload.retried ?? 0) + 1} failed with status ${payload.status}; onSuccess waits for success`,
    );
  }

  const sourceInput = parseJson(decodeBase64(payload.sourceBody, "sourceBody"), "the callback's sourceBody");
  const parsed = await job.input["~standard"].validate(sourceInput);
  if (parsed.issues) {
    // The message never was a valid input of this job; no typed hook can take it. It stays in QStash's DLQ.
    log(
      base.logger,
      "warn",
      `${logPrefix(job.id, payload.sourceMessageId)}: on${kind} skipped: the original input does not match the schema`,
    );
    return ignored("the original input does not match the job's schema");
  }
  const input = (parsed as StandardSchemaV1.SuccessResult<unknown>).value;
  const abort = new LazyAbort();
  const ctx = context(
    base,
    {
      messageId: payload.sourceMessageId,
      retried: payload.retried,
      maxRetries: payload.maxRetries,
      scheduleId: payload.scheduleId,
      label: headerOf(payload.sourceHeader, FORWARDED.label),
    },
    abort,
  );
  const responseBody = decodeBase64(payload.body, "body");

  if (kind === "success") {
    // A cut output is not the job's output, even where what is left happens to parse.
    const cut = cutOutput(base, payload);
    if (cut) throw cut;
    let output = parseJson(responseBody, "the job's output");
    if (job.output) {
      const result = await job.output["~standard"].validate(output);
      if (result.issues) {
        // The job did its work, so this is the app's schema, not the message: the warning says
        // so, and the callback goes to the DLQ to be retried once the schema is fixed.
        throw nonRetryable(
          "INVALID_OUTPUT",
          `onSuccess of job "${job.id}" cannot run: its output schema rejects the JSON the job returned; an output schema must accept the JSON form of its own output (z.coerce.date() instead of z.date(), no transform it cannot read back)`,
          result.issues,
        );
      }
      output = (result as StandardSchemaV1.SuccessResult<unknown>).value;
    }
    await underTimeout(base, ctx, abort, "onSuccess", timeoutOf(job), { input, output, ctx });
  } else {
    // Non-UTF-8 bytes become U+FFFD: error bodies are for reading, not for parsing.
    const text = new TextDecoder().decode(responseBody);
    const error: JobFailure = { status: payload.status, body: text, message: failureMessage(text) };
    await underTimeout(base, ctx, abort, "onFailure", timeoutOf(job), {
      input,
      error,
      dlqId: payload.dlqId || undefined,
      ctx,
    });
  }
  return success(undefined);
}
