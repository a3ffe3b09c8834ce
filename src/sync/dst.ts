import { CronExpressionParser } from "cron-parser";

/**
 * A cron's fire times in its time zone: the next few, as people there read them, and the
 * ones a daylight-saving change skips or repeats. The plan shows both; `jobstash schedules`
 * and the dev console show the next runs.
 */

/** A fire time as people in that zone read it: `Mon 2026-11-23 09:00 CET`. */
export function formatInZone(date: Date, tz: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/**
 * The next `count` fire times of a cron in its zone.
 *
 * @example
 * nextRuns("0 9 * * 1", "Europe/Paris", new Date()); // the next three Mondays, 09:00 Paris time
 */
export function nextRuns(cron: string, tz: string, now: Date, count = 3): Date[] {
  try {
    return CronExpressionParser.parse(cron, { tz, currentDate: now })
      .take(count)
      .map((d) => d.toDate());
  } catch {
    return [];
  }
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetMinutes(tz: string, at: number): number {
  let format = offsetFormats.get(tz);
  if (!format) {
    // Building a formatter costs far more than using one; a year's scan uses it ~1500 times.
    format = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "longOffset" });
    offsetFormats.set(tz, format);
  }
  const name = format.formatToParts(at).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

interface Transition {
  /** UTC ms of the change. */
  at: number;
  /** Offset change in minutes: > 0 skips wall-clock time (gap), < 0 repeats it (overlap). */
  delta: number;
  before: number;
}

const transitionCache = new Map<string, Transition[]>();

/** Offset changes of a zone in the year after `now`, found by sampling then bisecting. */
function transitions(tz: string, now: Date): Transition[] {
  const cacheKey = `${tz}@${Math.floor(now.getTime() / 86_400_000)}`;
  const cached = transitionCache.get(cacheKey);
  if (cached) return cached;
  const out: Transition[] = [];
  const step = 6 * 3_600_000;
  const end = now.getTime() + 366 * 86_400_000;
  let prev = offsetMinutes(tz, now.getTime());
  for (let t = now.getTime() + step; t <= end; t += step) {
    const off = offsetMinutes(tz, t);
    if (off === prev) continue;
    let lo = t - step;
    let hi = t;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (offsetMinutes(tz, mid) === prev) lo = mid;
      else hi = mid;
    }
    out.push({ at: hi, delta: off - prev, before: prev });
    prev = off;
  }
  transitionCache.set(cacheKey, out);
  return out;
}

/** Wall-clock fields of a UTC instant shifted by an offset (reading the shifted time as UTC). */
function wallClock(ms: number) {
  const d = new Date(ms);
  return {
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    month: d.getUTCMonth() + 1,
    weekday: d.getUTCDay(),
    date: d.toISOString().slice(0, 10),
    time: d.toISOString().slice(11, 16),
  };
}

function cronMatches(
  parts: readonly string[],
  fields: ReturnType<typeof CronExpressionParser.parse>["fields"],
  w: ReturnType<typeof wallClock>,
): boolean {
  const has = (values: readonly (number | string)[], v: number) => values.includes(v);
  if (!has(fields.minute.values, w.minute) || !has(fields.hour.values, w.hour)) return false;
  if (!has(fields.month.values, w.month)) return false;
  const domAny = parts[2] === "*" || parts[2] === "?";
  const dowAny = parts[4] === "*" || parts[4] === "?";
  const dom = has(fields.dayOfMonth.values, w.day);
  const dow = has(fields.dayOfWeek.values, w.weekday) || (w.weekday === 0 && has(fields.dayOfWeek.values, 7));
  // Vixie cron: with both day fields restricted, either one matching is enough.
  if (!domAny && !dowAny) return dom || dow;
  return (domAny || dom) && (dowAny || dow);
}

/**
 * Warnings for a cron whose wall-clock times fall into a DST gap (they do not exist that
 * day) or an overlap (they happen twice) within the next year. Crons that run every hour
 * are left out: losing or repeating one of many runs is what they expect.
 *
 * @example
 * dstWarnings("30 2 * * *", "Europe/Paris", new Date()); // ["02:30 on 2027-03-28 does not exist ...", ...]
 */
export function dstWarnings(cron: string, tz: string, now: Date): string[] {
  if (tz === "UTC" || cron.trim().split(/\s+/)[1] === "*") return [];
  const out: string[] = [];
  try {
    const parts = cron.trim().split(/\s+/);
    const fields = CronExpressionParser.parse(cron).fields;
    for (const t of transitions(tz, now)) {
      const gap = t.delta > 0;
      // Wall-clock minutes that are skipped (gap) or repeated (overlap).
      const start = gap ? t.at + t.before * 60_000 : t.at + (t.before + t.delta) * 60_000;
      const hits: string[] = [];
      for (let m = 0; m < Math.abs(t.delta); m++) {
        const w = wallClock(start + m * 60_000);
        if (cronMatches(parts, fields, w)) hits.push(w.time);
      }
      if (hits.length === 0) continue;
      const day = wallClock(start).date;
      out.push(
        gap
          ? `${hits[0]} on ${day} does not exist in ${tz} (DST gap): that run may be skipped or shifted`
          : `${hits[0]} on ${day} happens twice in ${tz} (DST overlap): that run may fire twice`,
      );
    }
  } catch {
    return out;
  }
  return out;
}
