import type { LifecycleEvent } from "jobstash/dev-server";

/**
 * What a log line is made of: a dev server's lifecycle event, or an entry of QStash's log
 * (`jobstash logs`), which knows no user and not always how often the message was retried.
 */
export type LoggedEvent = Omit<LifecycleEvent, "userId" | "retried"> & { retried?: number };

/**
 * One line per lifecycle event, times in UTC:
 * `12:00:01.234 ERROR            msg_abc → http://… (489, retried 0/3): address bounced`
 * Failures end with their reason, a delayed message's CREATED says when it runs, and a
 * response body the server cut says so. `jobstash dev` and `jobstash logs` both print these.
 */
export function formatEvent(e: LoggedEvent): string {
  const time = new Date(e.time).toISOString().slice(11, 23);
  const parts = [`${time} ${e.state.padEnd(16)} ${e.messageId} → ${e.url}`];
  const details: string[] = [];
  if (e.callbackOf) details.push(e.callbackOf);
  if (e.queueName) details.push(`queue ${e.queueName}`);
  if (e.scheduleId) details.push(`schedule ${e.scheduleId}`);
  if (e.notBefore !== undefined) details.push(`delayed until ${when(e.notBefore, e.time)}`);
  if (e.status !== undefined) details.push(String(e.status));
  if (e.error && e.status === undefined) details.push(e.error);
  if (e.state !== "CREATED" && e.retried !== undefined) details.push(`retried ${e.retried}/${e.maxRetries}`);
  if (e.nextDeliveryTime !== undefined) details.push(`next at ${when(e.nextDeliveryTime, e.time)}`);
  if (e.truncatedFrom !== undefined)
    details.push(`response cut to ${bytes(e.responseBody?.length ?? 0)} of ${bytes(e.truncatedFrom)}`);
  if (details.length) parts.push(`(${details.join(", ")})`);
  return e.reason ? `${parts.join(" ")}: ${e.reason}` : parts.join(" ");
}

/** `12:00:30, in 10s`; a day or more ahead, with the date, as the time of day alone would mislead. */
function when(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  const shown = at - now < 86_400_000 ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return `${shown}, in ${span(at - now)}`;
}

const UNITS = [
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
] as const;

/** `450ms`, `10s`, `5m 30s`, `2h 15m`, `3d 4h`: the largest unit and the one below it. */
function span(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.round(ms / 1000);
  const i = UNITS.findIndex(([, size]) => seconds >= size);
  const [name, size] = UNITS[i]!;
  const below = UNITS[i + 1];
  const rest = below ? Math.floor((seconds % size) / below[1]) : 0;
  return `${Math.floor(seconds / size)}${name}${rest ? ` ${rest}${below![0]}` : ""}`;
}

/** `512 B`, `256 KiB`, `1.5 MiB`. */
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / 1024 / 1024, "MiB"];
  return `${value.toFixed(1).replace(/\.0$/, "")} ${unit}`;
}
