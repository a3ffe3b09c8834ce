import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { EnvSource } from "../config.js";
import { ConfigError, JobstashError } from "../errors.js";
import { jobDefaults } from "../job/define.js";
import type { AnyJob, JobContext, JobFailure, Logger, Schema } from "../job/types.js";
import { type AnyJobstash, FORWARDED, internals } from "../jobstash.js";
import { base64ToBytes } from "../util/base64.js";
import { toMilliseconds } from "../util/duration.js";
import {
  failureReply,
  HttpFailure,
  ignored,
  nonRetryable,
  type Reply,
  success,
  toResponse,
} from "./respond.js";
import { SignatureFailure, verifySignature } from "./verify.js";

/** What Workers and Vercel pass as the third argument; only `waitUntil` is used. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** The receiver: a fetch handler for every job of a registry. */
export type Handler = (request: Request, env?: EnvSource, ctx?: ExecutionContextLike) => Promise<Response>;

/**
 * The parts of a `Request` the receiver reads. Any Request satisfies it; a bridge from a
 * server without Web requests (Node's `http`) can implement it directly instead of paying
 * for a Request it would build only to have it read once.
 */
export interface DeliveryRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer | Uint8Array>;
  readonly body: ReadableStream<Uint8Array> | null;
}

/** The receiver one level down: the answer as plain data, for bridges that write it themselves. */
export type ReplyHandler = (
  request: DeliveryRequest,
  env?: EnvSource,
  ctx?: ExecutionContextLike,
) => Promise<Reply>;

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
const DEFAULT_CLOCK_TOLERANCE = 5;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Create the fetch-shaped receiver for all jobs of `jobstash`. Mount it so each job's path
 * ends in its id (`<mount>/<jobId>`); adapters do this for each framework.
 *
 * Per request: verify the QStash signature over the raw body and the public URL, route to
 * the job, validate the input, run it, and answer in the terms QStash acts on. Callbacks
 * come back to the job's URL with `?callback=success` or `?callback=failure`.
 *
 * @example
 * const handler = createHandler(jobs);
 * export default { fetch: handler }; // Workers; adapters wrap the same function
 */
export function createHandler(jobstash: AnyJobstash): Handler {
  const reply = createReplyHandler(jobstash);
  return async (request, env, ctx) => toResponse(await reply(request, env, ctx));
}

/**
 * `createHandler` without the `Response`: the same receiver answering with a {@link Reply}.
 * For adapters that write to a Node `ServerResponse`.
 */
export function createReplyHandler(jobstash: AnyJobstash): ReplyHandler {
  const { options, config: configFor } = internals(jobstash);
  const logger: Logger = options.logger ?? console;
  const maxBody = options.maxBodySize ?? DEFAULT_MAX_BODY;
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  const background = floating(logger);

  return async (request, env, executionContext) => {
    let jobId: string | undefined;
    try {
      if (request.method !== "POST") {
        throw new HttpFailure(
          405,
          "METHOD_NOT_ALLOWED",
          `${request.method} is not allowed; QStash delivers with POST`,
          {
            Allow: "POST",
          },
        );
      }
      const { rawId, marker } = route(request.url);
      jobId = safeDecode(rawId);
      const config = configFor(env);
      const keys = config.signingKeys();
      const baseUrl = config.baseUrl();

      const token = request.headers.get("upstash-signature");
      if (!token)
        throw new HttpFailure(
          401,
          "UNAUTHORIZED",
          "missing Upstash-Signature header; only QStash may call this endpoint",
        );
      const body = await readBody(request, maxBody);
      let claims: Awaited<ReturnType<typeof verifySignature>>;
      try {
        claims = await verifySignature(token, body, { keys, clockTolerance });
      } catch (error) {
        if (error instanceof SignatureFailure) throw new HttpFailure(401, "UNAUTHORIZED", error.message);
        throw error;
      }
      // The URL QStash signed must be the one trigger published to: a token for one job (or
      // host) cannot be replayed against another. It is rebuilt from the id and the callback
      // marker alone, because frameworks add their own query parameters (Next.js's Edge
      // runtime appends the route params).
      const expected = `${baseUrl}/${rawId}${marker === null ? "" : `?callback=${encodeURIComponent(marker)}`}`;
      if (claims.sub !== expected) {
        throw new HttpFailure(
          401,
          "URL_MISMATCH",
          `signature is for another URL: got ${claims.sub}, expected ${expected}; set JOBSTASH_BASE_URL to the public URL the jobs are mounted at`,
        );
      }

      const job = jobstash.jobs.get(jobId);
      if (!job) {
        throw nonRetryable(
          "UNKNOWN_JOB",
          `no job "${jobId}" here; known jobs: ${[...jobstash.jobs.keys()].join(", ") || "(none)"}`,
        );
      }
      const waitUntil = executionContext ? executionContext.waitUntil.bind(executionContext) : background;
      const base = { job, env: config.env, waitUntil, logger };

      if (marker === null) {
        return await runJob(base, body, request.headers);
      }
      if (marker === "success" || marker === "failure") {
        return await runCallback(base, marker, body);
      }
      throw nonRetryable("BAD_CALLBACK", `unknown callback marker "${marker}"; expected success or failure`);
    } catch (error) {
      // The same prefix as ctx.logger, so a failure's lines sort with the job's own.
      const where =
        jobId === undefined
          ? "jobstash"
          : `[jobstash ${jobId} ${request.headers.get("upstash-message-id") ?? "?"}]`;
      return failureReply(error, logger, where);
    }
  };
}

interface Base {
  job: AnyJob;
  env: EnvSource;
  waitUntil: (promise: Promise<unknown>) => void;
  logger: Logger;
}

/**
 * The job's path segment (the last non-empty one) and the callback marker of a request URL.
 * String scanning instead of `new URL`, which costs more than the rest of the routing: this
 * runs on every delivery, and `request.url` is already normalised by whoever built the Request.
 */
export function route(url: string): { rawId: string; marker: string | null } {
  // A fragment never reaches a server, but a hand-built Request may carry one.
  const hash = url.indexOf("#");
  if (hash !== -1) url = url.slice(0, hash);
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  const pathStart = path.indexOf("/", path.indexOf("//") + 2);
  const segments = pathStart === -1 ? [] : path.slice(pathStart).split("/").filter(Boolean);
  return {
    rawId: segments[segments.length - 1] ?? "",
    marker: query === -1 ? null : new URLSearchParams(url.slice(query + 1)).get("callback"),
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Without a platform `waitUntil`, background work just runs on; its failures are logged. */
function floating(logger: Logger) {
  return (promise: Promise<unknown>) => {
    promise.catch((error) => logger.error("jobstash: background work failed", error));
  };
}

/** The body's bytes, refusing to buffer more than `max`. */
async function readBody(request: DeliveryRequest, max: number): Promise<Uint8Array> {
  if (request.bodyUsed) {
    throw new ConfigError(
      "the request body was already read (by a body parser or middleware) before jobstash got it; QStash signs the raw bytes, so mount jobstash before anything that reads the body",
    );
  }
  const declared = Number(request.headers.get("content-length"));
  if (declared > max) throw tooLarge(max);
  try {
    return await readBytes(request, declared, max);
  } catch (error) {
    // A refusal or a configuration error says what to fix; anything else is the connection
    // (the client went away mid-body), not a job that threw.
    if (error instanceof HttpFailure || error instanceof JobstashError) throw error;
    throw new HttpFailure(
      400,
      "UNREADABLE_BODY",
      `the request body could not be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

const tooLarge = (max: number) =>
  new HttpFailure(
    413,
    "PAYLOAD_TOO_LARGE",
    `body is larger than ${max} bytes; raise createJobstash({ maxBodySize })`,
  );

async function readBytes(request: DeliveryRequest, declared: number, max: number): Promise<Uint8Array> {
  // With a declared length, read before touching `request.body`: on @hono/node-server (and
  // other lightweight Request wrappers) the `body` getter builds a full Request and a
  // ReadableStream over the socket, which cost more than the rest of the handler together.
  if (declared > 0) {
    const data = await request.arrayBuffer();
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (bytes.length > max) throw tooLarge(max);
    return bytes;
  }
  if (!request.body) return new Uint8Array(0);
  // No length given (chunked): count while reading.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** JSON from bytes; an empty body is `undefined` (a job whose input schema allows it). */
function parseJson(bytes: Uint8Array, what: string): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw nonRetryable("INVALID_JSON", `${what} is not valid UTF-8 JSON`);
  }
}

async function validate(schema: Schema, value: unknown, code: string, what: string): Promise<unknown> {
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

/**
 * A job's abort controller, made on first use: most jobs have no timeout and never read
 * `ctx.signal`, and in Node an AbortController costs more per request than parsing the input.
 */
class LazyAbort {
  #controller: AbortController | undefined;
  get controller(): AbortController {
    this.#controller ??= new AbortController();
    return this.#controller;
  }
  /** Whether the signal was made and has fired. */
  get aborted(): boolean {
    return this.#controller?.signal.aborted ?? false;
  }
  get reason(): unknown {
    return this.#controller?.signal.reason;
  }
}

/** What a delivery or a callback says about the message; the job's defaults fill the gaps. */
interface MessageMeta {
  messageId?: string | null;
  retried?: number;
  maxRetries?: number;
  scheduleId?: string | null;
  label?: string | null;
}

function context(base: Base, meta: MessageMeta, abort: LazyAbort): JobContext {
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
      logger ??= prefixed(base.logger, `[jobstash ${job.id} ${messageId}]`);
      return logger;
    },
  };
}

function intHeader(value: string | null | undefined): number | undefined {
  const n = Number(value);
  return value != null && value !== "" && Number.isInteger(n) && n >= 0 ? n : undefined;
}

const noop = () => {};

/** Abort the job's signal after its timeout; the returned function cancels the timer. */
function armTimeout(job: AnyJob, abort: LazyAbort): () => void {
  const timeout = job.definition.timeout;
  if (timeout === undefined) return noop;
  const ms = toMilliseconds(timeout);
  const controller = abort.controller;
  const timer = setTimeout(
    () => controller.abort(new DOMException(`job "${job.id}" timed out after ${ms} ms`, "TimeoutError")),
    ms,
  );
  return () => clearTimeout(timer);
}

async function runJob(base: Base, body: Uint8Array, headers: DeliveryRequest["headers"]): Promise<Reply> {
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
  const disarm = armTimeout(job, abort);
  let output: unknown;
  try {
    output = await job.definition.run(input, ctx);
  } catch (error) {
    // A job that gave up because its signal fired reports the timeout, not the abort noise.
    if (abort.aborted) throw abort.reason;
    throw error;
  } finally {
    disarm();
  }
  if (job.output)
    output = await validate(job.output, output, "INVALID_OUTPUT", `the output of job "${job.id}"`);
  try {
    return success(output);
  } catch (error) {
    // JSON.stringify throws on a bigint or a cycle. The job's work is done; a retry would redo it and fail alike.
    const why = error instanceof Error ? error.message : String(error);
    throw nonRetryable("INVALID_OUTPUT", `the output of job "${job.id}" cannot be sent as JSON: ${why}`);
  }
}

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
  const message = `onSuccess of job "${base.job.id}" cannot run: the job's output (${cut.size} bytes) was cut to its first ${cut.kept} bytes on its way back (the server keeps no more of a response); return less (store a large result elsewhere and return where it is), or raise the server's maxBodySize`;
  base.logger.warn(`jobstash ${base.job.id}: ${message}`);
  return nonRetryable("OUTPUT_TRUNCATED", message);
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

async function runCallback(base: Base, kind: "success" | "failure", body: Uint8Array): Promise<Reply> {
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
    base.logger.warn(`jobstash ${job.id}: on${kind} skipped: the original input does not match the schema`);
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
        // The job did its work, so this is the app's schema, not the message: say so in the
        // app's logs, and let the callback go to the DLQ to be retried once the schema is fixed.
        const message = `onSuccess of job "${job.id}" cannot run: its output schema rejects the JSON the job returned; an output schema must accept the JSON form of its own output (z.coerce.date() instead of z.date(), no transform it cannot read back)`;
        base.logger.warn(`jobstash ${job.id}: ${message}`);
        throw nonRetryable("INVALID_OUTPUT", message, result.issues);
      }
      output = (result as StandardSchemaV1.SuccessResult<unknown>).value;
    }
    await job.definition.onSuccess!({ input, output, ctx });
  } else {
    // Non-UTF-8 bytes become U+FFFD: error bodies are for reading, not for parsing.
    const text = new TextDecoder().decode(responseBody);
    const error: JobFailure = { status: payload.status, body: text, message: failureMessage(text) };
    await job.definition.onFailure!({ input, error, dlqId: payload.dlqId || undefined, ctx });
  }
  return success(undefined);
}
