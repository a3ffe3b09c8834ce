import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type Duration, toMilliseconds } from "./util/duration.js";

/**
 * Every jobstash error carries its kind under a global symbol, and `instanceof` checks that
 * kind. A user's `NonRetryableError` is then recognised even when the bundler or the
 * ESM/CJS split hands the handler a second copy of this module.
 */
const KIND = Symbol.for("jobstash.error");

function isKind(value: unknown, kind: string): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[KIND] === kind;
}

/** Base class of every error jobstash throws or understands. */
export class JobstashError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // Class names are not stable under minification; each subclass names itself.
    brand(this, "JobstashError");
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && KIND in value;
  }
}

function brand(error: Error, kind: string): void {
  error.name = kind;
  // Configurable, so each subclass constructor can re-brand what its parent branded.
  Object.defineProperty(error, KIND, { value: kind, enumerable: false, configurable: true });
}

/**
 * Throw from a job to fail it for good: QStash gets 489 with `Upstash-NonRetryable-Error: true`,
 * moves the message to the DLQ after this attempt and calls `onFailure`.
 *
 * @example
 * if (!user) throw new NonRetryableError(`user ${input.userId} does not exist`);
 */
export class NonRetryableError extends JobstashError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    brand(this, "NonRetryableError");
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, "NonRetryableError");
  }
}

/** QStash ignores a `Retry-After` over one day and falls back to its backoff; we clamp instead. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * Throw from a job to ask QStash to retry after a given time instead of its backoff:
 * a number of seconds, a duration such as `"5m"`, or a `Date`. Answered as 429 with
 * `Retry-After`, clamped to QStash's one-day cap. The retry still counts against `retries`.
 *
 * @example
 * throw new RetryAfterError("rate limited by the mail API", "30s");
 */
export class RetryAfterError extends JobstashError {
  /** Whole seconds until the retry, between 0 and one day. */
  readonly retryAfter: number;
  constructor(message: string, retryAfter: number | Duration | Date, options?: { cause?: unknown }) {
    super(message, options);
    brand(this, "RetryAfterError");
    const ms =
      retryAfter instanceof Date
        ? retryAfter.getTime() - Date.now()
        : typeof retryAfter === "number"
          ? retryAfter * 1000
          : toMilliseconds(retryAfter);
    this.retryAfter = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil(ms / 1000)));
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, "RetryAfterError");
  }
}

/** A payload that does not match the job's schema. `issues` are the schema library's own. */
export class InvalidPayloadError extends JobstashError {
  readonly issues: readonly StandardSchemaV1.Issue[];
  constructor(message: string, issues: readonly StandardSchemaV1.Issue[], options?: { cause?: unknown }) {
    super(`${message}\n${formatIssues(issues)}`, options);
    brand(this, "InvalidPayloadError");
    this.issues = issues;
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, "InvalidPayloadError");
  }
}

/** Something in the code or the environment is set up wrongly; the message says what to fix. */
export class ConfigError extends JobstashError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    brand(this, "ConfigError");
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isKind(value, "ConfigError");
  }
}

/** One line per issue: `  - email: Invalid email address`. */
export function formatIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  return issues.map((issue) => `  - ${issuePath(issue) || "(root)"}: ${issue.message}`).join("\n");
}

/** `a.b[0].c` for an issue's path, or "" for the root. */
export function issuePath(issue: StandardSchemaV1.Issue): string {
  let out = "";
  for (const segment of issue.path ?? []) {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  }
  return out;
}
