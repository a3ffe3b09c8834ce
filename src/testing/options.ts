import type { EnvSource } from "jobstash";
import { DEFAULT_DEV_USER } from "../dev-server/engine/users.js";
import { parseDuration } from "../util/duration.js";
import { TestHarnessError } from "./errors.js";

/** Where deliveries go when neither the registry nor the environment names a base URL. */
const DEFAULT_BASE_URL = "http://jobstash.test/api/jobs";

/** @default for `attemptTimeout`: well under the 5 s a test runner allows a test by default. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 2_000;

/** @default for `drain`'s horizon. */
export const DEFAULT_HORIZON_MS = 30 * 86_400_000;

/** What the receiver needs and a test environment usually lacks. */
const DEFAULTS: Record<string, string> = {
  JOBSTASH_BASE_URL: DEFAULT_BASE_URL,
  QSTASH_CURRENT_SIGNING_KEY: DEFAULT_DEV_USER.currentSigningKey,
  QSTASH_NEXT_SIGNING_KEY: DEFAULT_DEV_USER.nextSigningKey,
};

/** The bindings the harness hands the receiver: `env` with the defaults it lacks filled in. */
export function harnessEnv(env: EnvSource): EnvSource {
  const out: EnvSource = { ...env };
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (typeof out[name] !== "string" || out[name] === "") out[name] = value;
  }
  return out;
}

/** Epoch ms of the `now` option. */
export function startTime(now: Date | string | number | undefined): number {
  if (now === undefined) return Date.now();
  const ms = now instanceof Date ? now.getTime() : typeof now === "string" ? Date.parse(now) : now;
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new TestHarnessError(
      "BAD_ARGUMENT",
      `createTestJobstash: now must be a Date, an ISO 8601 string or epoch milliseconds (got ${JSON.stringify(now)})`,
    );
  }
  return ms;
}

/** Milliseconds of a duration argument (seconds, or `"10m"`, `"1h30m"`); a clear error otherwise. */
export function durationMs(value: unknown, where: string): number {
  const ms =
    typeof value === "number" ? value * 1000 : typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new TestHarnessError(
      "BAD_ARGUMENT",
      `${where} takes a duration of 0 or more: seconds as a number, or a string such as "500ms", "10m", "1h30m", "2d" (got ${JSON.stringify(value)})`,
    );
  }
  return Math.round(ms);
}
