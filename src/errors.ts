import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type Duration, toMilliseconds } from "./util/duration.js";

/**
 * Every jobstash error carries its kind under a global symbol, and `instanceof` checks that
 * kind. A user's `NonRetryableError` is then recognised even when the bundler or the
 * ESM/CJS split hands the handler a second copy of this module.
 */
const KIND = Symbol.for("jobstash.error");
/** The kinds of the error's class and of each jobstash class it extends, most specific first. */
const KINDS = Symbol.for("jobstash.error.kinds");

/** Base class of every error jobstash throws or understands. */
export class JobstashError extends Error {
  /** The error's name; class names do not survive minification. */
  static readonly kind: string = "JobstashError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const kinds: string[] = [];
    for (
      let type = new.target as typeof JobstashError;
      type !== JobstashError;
      type = Object.getPrototypeOf(type)
    ) {
      if (Object.hasOwn(type, "kind") && !kinds.includes(type.kind)) kinds.push(type.kind);
    }
    const kind = kinds[0] ?? JobstashError.kind;
    this.name = kind;
    Object.defineProperty(this, KIND, { value: kind });
    Object.defineProperty(this, KINDS, { value: kinds });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const carried = value as Record<symbol, unknown> | null | undefined;
    const kind = carried?.[KIND];
    if (typeof kind !== "string") return false;
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about (usually a subclass).
    const asked = this.kind;
    if (asked === JobstashError.kind) return true;
    // A subclass of a subclass is an instance of both; a copy that carries only its kind, of one.
    const kinds = carried?.[KINDS];
    return Array.isArray(kinds) ? kinds.includes(asked) : kind === asked;
  }
}

/**
 * Throw from a job to fail it for good: QStash gets 489 with `Upstash-NonRetryable-Error: true`,
 * moves the message to the DLQ after this attempt and calls `onFailure`.
 *
 * @example
 * if (!user) throw new NonRetryableError(`user ${input.userId} does not exist`);
 */
export class NonRetryableError extends JobstashError {
  static override readonly kind: string = "NonRetryableError";
}

/** QStash ignores a `Retry-After` over one day and falls back to its backoff; we clamp instead. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

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
  static override readonly kind: string = "RetryAfterError";
  readonly retryAfter: number;
  constructor(message: string, retryAfter: number | Duration | Date, options?: { cause?: unknown }) {
    super(message, options);
    const ms =
      retryAfter instanceof Date
        ? retryAfter.getTime() - Date.now()
        : typeof retryAfter === "number"
          ? retryAfter * 1000
          : toMilliseconds(retryAfter);
    this.retryAfter = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil(ms / 1000)));
  }
}

/** A payload that does not match the job's schema. `issues` are the schema library's own. */
export class InvalidPayloadError extends JobstashError {
  static override readonly kind: string = "InvalidPayloadError";
  readonly issues: readonly StandardSchemaV1.Issue[];
  constructor(message: string, issues: readonly StandardSchemaV1.Issue[], options?: { cause?: unknown }) {
    super(`${message}\n${formatIssues(issues)}`, options);
    this.issues = issues;
  }
}

/** Something in the code or the environment is set up wrongly; the message says what to fix. */
export class ConfigError extends JobstashError {
  static override readonly kind: string = "ConfigError";
}

/** Reports a bad setting as a `ConfigError` reading `<where>: <field> <problem>`. */
export type Fail = (field: string, problem: string) => never;

/** The {@link Fail} of one call site, e.g. `defineJob("send-email")` or `trigger("send-email")`. */
export function failIn(where: string): Fail {
  return (field, problem) => {
    throw new ConfigError(`${where}: ${field} ${problem}`);
  };
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
