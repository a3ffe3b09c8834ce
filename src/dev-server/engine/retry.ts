import { parseDuration } from "../../util/duration.js";
import type { DeliveryResult } from "./delivery.js";
import type { Message } from "./model.js";

/** QStash ignores a Retry-After-style value above one day. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/** QStash's default backoff before retry `n` (1-based): `min(86400, e^(2.5n))` seconds. */
export function defaultBackoffMs(n: number): number {
  return Math.min(86_400, Math.exp(2.5 * n)) * 1000;
}

const RETRY_AFTER_HEADERS = [
  "retry-after",
  "x-ratelimit-reset",
  "x-ratelimit-reset-requests",
  "x-ratelimit-reset-tokens",
];

/**
 * The delay a failed reply asks for through `Retry-After` or the `X-RateLimit-Reset*` family:
 * seconds, an RFC 1123 date or a Go duration. Undefined when absent, unparsable or over a day
 * (QStash then falls back to its normal backoff).
 */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  now: number,
): number | undefined {
  for (const name of RETRY_AFTER_HEADERS) {
    const raw = headers[name];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!value) continue;
    let ms: number | undefined;
    if (/^\d+$/.test(value)) ms = Number(value) * 1000;
    else if (/^[\d.]+(ns|us|µs|ms|s|m|h)/.test(value)) ms = parseDuration(value);
    else {
      const date = Date.parse(value);
      if (!Number.isNaN(date)) ms = Math.max(0, date - now);
    }
    if (ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS) return ms;
  }
  return undefined;
}

/**
 * Milliseconds until a failed message's next attempt: the reply's `Retry-After` family first,
 * then the message's `Upstash-Retry-Delay` expression, else QStash's backoff; all times `scale`.
 */
export function nextRetryDelay(msg: Message, result: DeliveryResult, now: number, scale: number): number {
  if (result.ok) {
    const after = retryAfterMs(result.headers, now);
    if (after !== undefined) return after * scale;
  }
  // `retried` in expressions counts retries already done (0 before the first retry).
  if (msg.cfg.retryDelayFn) return msg.cfg.retryDelayFn(msg.retried) * scale;
  return defaultBackoffMs(msg.retried + 1) * scale;
}
