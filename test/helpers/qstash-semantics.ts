// What QStash does, as both the dev server's lifecycle tests (test/dev-server/lifecycle.test.ts)
// and the test harness's (test/testing/) expect it: one list of promises, checked twice.

/** QStash's default backoff before retries 1 to 5, in seconds: min(86400, e^(2.5n)). */
export const DEFAULT_BACKOFF_SECONDS = [12.182, 148.413, 1808.042, 22026.466, 86400];

/** A `Upstash-Retry-Delay` expression (milliseconds of `retried`) and the waits it gives. */
export const RETRY_DELAY_EXPRESSION = {
  expression: "pow(2, retried) * 1000",
  waitsMs: [1000, 2000, 4000],
};

/**
 * A daily 09:00 cron in New York across its 2026 switch to summer time (on 2026-03-08, from
 * UTC-5 to UTC-4): the ticks, as UTC hours, from `start` over four days.
 */
export const NEW_YORK_DST = {
  start: "2026-03-06T12:00:00Z",
  cron: "0 9 * * *",
  tz: "America/New_York",
  ticks: ["2026-03-06T14", "2026-03-07T14", "2026-03-08T13", "2026-03-09T13"],
};

/** Flow control at `rate` per `periodSeconds`: 12 messages start 5, 5, then 2, a period apart. */
export const RATE_LIMIT = { rate: 5, periodSeconds: 10, messages: 12, startsPerPeriod: [5, 5, 2] };

/** A FIFO queue with parallelism 1 whose head fails twice: nothing passes it while it retries. */
export const FIFO_HEAD_RETRIES = {
  bodies: ["A", "B", "C"],
  retryDelayMs: 1000,
  order: ["A", "A", "A", "B", "C"],
};
