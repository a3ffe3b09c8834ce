import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  ConfigError,
  formatIssues,
  InvalidPayloadError,
  issuePath,
  NonRetryableError,
  RetryAfterError,
} from "../errors.js";
import type { Logger } from "../job/types.js";

/**
 * Every response the receiver sends is decided here. QStash reads only the status and two
 * headers: 2xx is done, 489 + `Upstash-NonRetryable-Error: true` goes straight to the DLQ,
 * `Retry-After` sets the next attempt, anything else is retried with backoff.
 */

/** The JSON error body; `onFailure` reads `message` back out of it. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    issues?: { path: string; message: string }[];
  };
}

const NON_RETRYABLE = { "Upstash-NonRetryable-Error": "true" } as const;

/** A response the receiver decides itself (bad signature, unknown job, a timeout, ...). */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly issues?: readonly StandardSchemaV1.Issue[],
  ) {
    super(message);
  }
}

/** A failure retrying cannot fix: QStash moves the message to the DLQ now. */
export function nonRetryable(
  code: string,
  message: string,
  issues?: readonly StandardSchemaV1.Issue[],
): HttpFailure {
  return new HttpFailure(489, code, message, NON_RETRYABLE, issues);
}

/**
 * A response as plain data. The fetch handler wraps it in a `Response`; the Node bridge writes
 * it straight to the socket, since building a Response and reading it back costs more in Node
 * than handling the delivery.
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(value) };
}

function errorReply(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  issues?: readonly StandardSchemaV1.Issue[],
): Reply {
  const error: ErrorBody["error"] = { code, message };
  if (issues) error.issues = issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
  return json(status, { error }, headers);
}

/** 200 with the job's output as JSON, or an empty body when it returned nothing. */
export function success(output: unknown): Reply {
  // undefined for undefined, a function or a symbol: all arrive as nothing. Throws on a bigint.
  const body = JSON.stringify(output);
  return body === undefined
    ? { status: 200, headers: {}, body: null }
    : { status: 200, headers: { "Content-Type": "application/json" }, body };
}

/** A callback that needs no work (a failed attempt's success callback, a hook the job lacks). */
export function ignored(reason: string): Reply {
  return json(200, { ignored: reason });
}

/** The fetch handler's answer: a reply as a Web `Response`. */
export function toResponse({ status, headers, body }: Reply): Response {
  return new Response(body, { status, headers });
}

const MAX_MESSAGE = 2000;

/** Text that `read` returns, or `undefined` when reading it throws (a getter, a toString, a Proxy trap). */
function textOf(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === "string" ? value : String(value);
  } catch {
    return undefined;
  }
}

const UNREADABLE_MESSAGE = "[message unreadable: reading it throws]";

/**
 * The name and message of anything thrown. A thrown value is the job's own code and may throw
 * again when read: every read is guarded, and a value that cannot be read is described by what
 * it is instead of being run again.
 */
function thrownParts(error: unknown): [name: string, message: string] {
  if (error === null || (typeof error !== "object" && typeof error !== "function")) {
    return ["Error", String(error)];
  }
  let isError: boolean;
  try {
    isError = error instanceof Error;
  } catch {
    // instanceof reads the prototype chain, which a Proxy's trap answers.
    return ["Error", "[object that throws when inspected, such as a Proxy]"];
  }
  if (isError) {
    const thrown = error as Error;
    return [textOf(() => thrown.name) ?? "Error", textOf(() => thrown.message) ?? UNREADABLE_MESSAGE];
  }
  const text = textOf(() => String(error));
  if (text !== undefined) return ["Error", text];
  let bare = false;
  try {
    bare = Object.getPrototypeOf(error) === null;
  } catch {}
  return ["Error", bare ? "[object with no prototype]" : "[object whose toString throws]"];
}

/** `Name: message` of anything thrown, never throwing itself. */
export function describeThrown(error: unknown): string {
  const [name, message] = thrownParts(error);
  return `${name}: ${message}`;
}

/** The message of anything thrown, never throwing itself. */
export function thrownMessage(error: unknown): string {
  return thrownParts(error)[1];
}

/**
 * The prefix of the receiver's log lines about a request, `[jobstash <jobId> <messageId>]`:
 * the same as `ctx.logger`'s, so they sort with the job's own lines.
 */
export function logPrefix(jobId: string | undefined, messageId: string | null | undefined): string {
  return jobId === undefined ? "jobstash" : `[jobstash ${jobId} ${messageId ?? "?"}]`;
}

/**
 * Write one line through the app's logger. A logger that throws must not change the reply, and
 * one that cannot format the thrown value gets the line with the value described instead.
 */
export function log(logger: Logger, level: keyof Logger, line: string, error?: unknown): void {
  try {
    if (error === undefined) logger[level](line);
    else logger[level](line, error);
  } catch {
    if (error === undefined) return;
    try {
      logger[level](`${line}: ${describeThrown(error)}`);
    } catch {}
  }
}

/** A failure of a known kind: its reply, and its log line's level and text. */
interface Failure {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
  issues?: readonly StandardSchemaV1.Issue[];
  level: "warn" | "error";
  /** What the log line says after `<status> <code>: `. */
  line: string;
}

const failure = (
  status: number,
  code: string,
  message: string,
  level: Failure["level"],
  more: Partial<Failure> = {},
): Failure => ({ status, code, message, level, line: message, ...more });

/**
 * What a thrown value of a known kind answers, or `undefined` for any other throw. `error`
 * when the app's setup failed or a job overran its timeout, `warn` when the request was refused
 * or the job gave its own verdict (non-retryable, retry later): never a stack for either.
 */
function classify(error: unknown): Failure | undefined {
  if (error instanceof HttpFailure) {
    const { status, code, message, headers, issues } = error;
    const line = issues ? `${message}\n${formatIssues(issues)}` : message;
    return failure(status, code, message, status >= 500 ? "error" : "warn", { headers, issues, line });
  }
  if (error instanceof NonRetryableError) {
    return failure(489, "NON_RETRYABLE", thrownMessage(error), "warn", { headers: NON_RETRYABLE });
  }
  if (error instanceof InvalidPayloadError) {
    // Its message lists the issues already.
    const { issues } = error;
    return failure(489, "INVALID_PAYLOAD", thrownMessage(error), "warn", { headers: NON_RETRYABLE, issues });
  }
  if (error instanceof RetryAfterError) {
    const message = thrownMessage(error);
    const seconds = error.retryAfter;
    const headers = { "Retry-After": String(seconds) };
    return failure(429, "RETRY_AFTER", message, "warn", {
      headers,
      line: `${message} (retry in ${seconds} s)`,
    });
  }
  if (error instanceof ConfigError) {
    // Retryable on purpose: once the configuration is fixed, QStash's next attempt succeeds.
    return failure(500, "CONFIG", thrownMessage(error), "error");
  }
  return undefined;
}

/**
 * Turn anything thrown while handling a request into the response QStash should see, and
 * write its one log line. Never throws: whatever a job threw, the reply is JSON, and the stack
 * stays in the app's logs.
 */
export function failureReply(error: unknown, logger: Logger, where: string): Reply {
  let failure: Failure | undefined;
  try {
    failure = classify(error);
  } catch {
    // The value's own code threw while it was classified (a Proxy trap, a getter on a subclass
    // of ours): it is no failure of a known kind, so it is answered as any other throw.
  }
  if (failure) {
    const { status, code, message, headers, issues } = failure;
    log(logger, failure.level, `${where}: ${status} ${code}: ${failure.line.replace(/\s*\n\s*/g, " ")}`);
    try {
      return errorReply(status, code, message, headers, issues);
    } catch {
      // Issues a job made itself may not be plain data; the message still says what failed.
      return errorReply(status, code, message, headers);
    }
  }
  // The thrown value goes to the logger whole, for its stack: this is the app's own code failing.
  log(logger, "error", `${where}: 500 JOB_FAILED: job threw`, error);
  // Name and message only: stacks and causes stay in the app's own logs.
  return errorReply(500, "JOB_FAILED", describeThrown(error).slice(0, MAX_MESSAGE));
}
