import { createHash } from "node:crypto";
import type { FlowControlLimits } from "../protocol.js";

/**
 * A schedule as sync compares it. Desired schedules (from code) and remote ones (from
 * `GET /v2/schedules`) are both turned into this shape, so the planner compares like with
 * like; the fingerprint covers what QStash may not echo back.
 */

/** Everything QStash stores about a schedule that sync decides, in one comparable shape. */
export interface ScheduleSpec {
  destination: string;
  /** Five-field cron, without a `CRON_TZ=` prefix. */
  cron: string;
  /** IANA zone the cron is read in. */
  tz: string;
  method: string;
  body: string | undefined;
  /** Forwarded headers and Content-Type, names lower-cased, repeated values joined with ", ". */
  headers: Record<string, string>;
  retries: number;
  retryDelay: string | undefined;
  /** Seconds. */
  timeout: number | undefined;
  /** Seconds. */
  delay: number | undefined;
  callback: string | undefined;
  failureCallback: string | undefined;
  queue: string | undefined;
  flowControl: FlowControlLimits | undefined;
  labels: readonly string[];
  paused: boolean;
}

/** One field that differs between QStash and the code. */
export interface FieldDiff {
  field: string;
  from: unknown;
  to: unknown;
}

/**
 * Forwarded header holding a hash of the rest of the schedule. Fields QStash does not echo
 * back (the schedule object has no `timeout` in the SDK's type) are compared through it, so a
 * no-op run stays a no-op against such a server and a real change is still seen.
 */
export const FINGERPRINT_HEADER = "jobstash-sync";

/** JSON with sorted keys, so objects compare by content whatever their key order. */
function stable(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Hash of everything in a spec but the fingerprint itself. */
export function fingerprint(spec: ScheduleSpec): string {
  const { [FINGERPRINT_HEADER]: _, ...headers } = spec.headers;
  return createHash("sha256")
    .update(stable({ ...spec, headers, labels: [...spec.labels].sort() }))
    .digest("hex")
    .slice(0, 16);
}

/** Lower-case names, so `Content-Type` from code and `content-type` from QStash compare equal. */
export function lowerCaseHeaders(
  headers: Record<string, string | readonly string[]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = typeof value === "string" ? value : value.join(", ");
  }
  return out;
}

const SCHEDULE_FIELDS: readonly (keyof ScheduleSpec)[] = [
  "destination",
  "cron",
  "tz",
  "method",
  "body",
  "headers",
  "retries",
  "retryDelay",
  "timeout",
  "delay",
  "callback",
  "failureCallback",
  "queue",
  "flowControl",
  "labels",
  "paused",
];

/**
 * Field-by-field differences between QStash's schedule and the code's (empty when they
 * match). Fields the server does not report are judged by the fingerprint header instead.
 */
export function diffSchedule(
  from: ScheduleSpec,
  to: ScheduleSpec,
  unreported: readonly (keyof ScheduleSpec)[] = [],
): FieldDiff[] {
  const strip = (spec: ScheduleSpec) => {
    const { [FINGERPRINT_HEADER]: _, ...headers } = spec.headers;
    return { ...spec, headers };
  };
  const fields = SCHEDULE_FIELDS.filter((f) => !unreported.includes(f));
  const diff = diffFields(fields, strip(from), strip(to));
  if (
    diff.length === 0 &&
    unreported.length > 0 &&
    from.headers[FINGERPRINT_HEADER] !== to.headers[FINGERPRINT_HEADER]
  ) {
    for (const field of unreported) diff.push({ field, from: "(not reported by QStash)", to: to[field] });
  }
  return diff;
}

/** The named fields whose values differ, compared by content. */
export function diffFields<T extends object>(fields: readonly (keyof T)[], from: T, to: T): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const field of fields) {
    let a: unknown = from[field];
    let b: unknown = to[field];
    // Labels are a set in QStash's filters; their order carries nothing.
    if (field === "labels") {
      a = [...(a as string[])].sort();
      b = [...(b as string[])].sort();
    }
    if (stable(a) !== stable(b)) out.push({ field: String(field), from: from[field], to: to[field] });
  }
  return out;
}
