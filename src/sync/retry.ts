import pRetry from "p-retry";
import { statusOf } from "../qstash.js";

/**
 * How sync retries a QStash call: rate limits, server errors and failures to reach QStash
 * are transient; anything else (a 400, a refused token) fails at once. Reads and writes are
 * retried alike, so a run converges instead of stopping at the first hiccup.
 */

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 5 */
  retries?: number;
  /** First delay in ms (doubling each time) when QStash gives no reset time. @default 200 */
  minRetryDelay?: number;
  /** Called before each retry, e.g. to count it. */
  onRetry?: () => void;
}

/** Transient: rate limits, server errors and failures to reach QStash at all. */
function transient(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined)
    return error instanceof TypeError || /fetch failed|ECONN|ETIMEDOUT|socket/i.test(String(error));
  return status === 429 || status >= 500;
}

/**
 * How long QStash asked us to wait: the SDK's rate-limit errors carry the reset header
 * (epoch seconds, epoch ms or seconds from now); capped so one bad value cannot stall CI.
 */
function waitFor(error: unknown, now = Date.now()): number | undefined {
  const raw =
    (error as { reset?: unknown; retryAfter?: unknown })?.retryAfter ?? (error as { reset?: unknown })?.reset;
  if (raw === null || raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) return undefined;
  let ms: number;
  if (value > 1e12) ms = value - now;
  else if (value > 1e9) ms = value * 1000 - now;
  else ms = value * 1000;
  return Math.min(Math.max(ms, 0), 60_000);
}

/**
 * Run one QStash call, retrying 429, 5xx and network errors: waiting what QStash asked for
 * when it says, else doubling from `minRetryDelay`.
 *
 * @example
 * const schedules = await withRetry(() => client.schedules.list(), { retries: 3 });
 */
export function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const minDelay = options.minRetryDelay ?? 200;
  return pRetry(fn, {
    retries: options.retries ?? 5,
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    shouldRetry: ({ error }) => transient(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft <= 0 || !transient(error)) return;
      options.onRetry?.();
      await sleep(waitFor(error) ?? minDelay * 2 ** (attemptNumber - 1));
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
