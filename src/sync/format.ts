import { CronExpressionParser } from "cron-parser";
import type { ScheduleSpec } from "./desired.js";
import {
  type FieldDiff,
  type FlowControlChange,
  hasDrift,
  type QueueChange,
  type ScheduleChange,
  type SyncAction,
  type SyncPlan,
} from "./plan.js";

/** Options of {@link formatPlan}. */
export interface FormatOptions {
  /** Use ANSI colour. @default stdout is a TTY and neither NO_COLOR nor TERM=dumb is set */
  color?: boolean;
  /** "Now", for the next fire times and the DST look-ahead. @default new Date() */
  now?: Date;
  /** Whether deletes will run (changes how they are labelled). @default false */
  prune?: boolean;
}

/**
 * Our own few ANSI codes: `util.styleText` decides by itself whether stdout can show colour
 * (and on Node 20 cannot be told otherwise), while the caller here has already decided.
 */
const ANSI = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  gray: [90, 39],
} as const;
type Style = keyof typeof ANSI;

/** Colour only where it can be seen and is wanted. */
export function supportsColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY) && process.env.TERM !== "dumb";
}

function painter(color: boolean) {
  return (style: Style, text: string) =>
    color ? `\u001b[${ANSI[style][0]}m${text}\u001b[${ANSI[style][1]}m` : text;
}

const FOREIGN_SHOWN = 10;

const SIGN: Record<SyncAction, string> = {
  create: "+",
  update: "~",
  delete: "-",
  unchanged: "=",
  waiting: "…",
};
const STYLE: Record<SyncAction, Style> = {
  create: "green",
  update: "yellow",
  delete: "red",
  unchanged: "gray",
  waiting: "gray",
};

function show(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function showDiff(diff: readonly FieldDiff[]): string {
  return diff
    .map((d) => {
      if (d.field === "headers") {
        const from = d.from as Record<string, string>;
        const to = d.to as Record<string, string>;
        const names = [...new Set([...Object.keys(from), ...Object.keys(to)])].filter(
          (n) => from[n] !== to[n],
        );
        return `headers: ${names.map((n) => `${n} ${show(from[n])} → ${show(to[n])}`).join(", ")}`;
      }
      return `${d.field}: ${show(d.from)} → ${show(d.to)}`;
    })
    .join("; ");
}

function describeSchedule(spec: ScheduleSpec): string {
  return `cron "${spec.cron}" ${spec.tz} → ${spec.destination}${spec.paused ? " (paused)" : ""}`;
}

function describeLimits(fc: { parallelism?: number; rate?: number; period?: number }): string {
  return [
    fc.parallelism !== undefined && `parallelism ${fc.parallelism}`,
    fc.rate !== undefined && `rate ${fc.rate}/${fc.period ?? 1}s`,
  ]
    .filter(Boolean)
    .join(", ");
}

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

function scheduleWarnings(plan: SyncPlan, now: Date): { id: string; message: string }[] {
  const out: { id: string; message: string }[] = [];
  for (const change of plan.schedules) {
    if (!change.spec || change.action === "delete") continue;
    for (const message of dstWarnings(change.spec.cron, change.spec.tz, now))
      out.push({ id: change.id, message });
  }
  return out;
}

/**
 * The plan as a terraform-style text: one line per change, the next three fire times of
 * each new or changed schedule in its zone, DST warnings, and a summary line.
 *
 * @example
 * console.log(formatPlan(plan, { prune: true }));
 */
export function formatPlan(plan: SyncPlan, options: FormatOptions = {}): string {
  const paint = painter(options.color ?? supportsColor());
  const now = options.now ?? new Date();
  const lines: string[] = [paint("bold", `jobstash sync: app "${plan.app}", env "${plan.env}"`), ""];
  const line = (action: SyncAction, name: string, detail: string) =>
    `  ${paint(STYLE[action], `${SIGN[action]} ${name}`)}  ${detail}`;
  const deleteNote = options.prune ? "" : paint("dim", " (kept: run with --prune to delete)");

  const section = <T extends ScheduleChange | QueueChange | FlowControlChange>(
    title: string,
    changes: readonly T[],
    render: (c: T) => string[],
  ) => {
    const visible = changes.filter((c) => c.action !== "unchanged");
    const unchanged = changes.length - visible.length;
    lines.push(paint("bold", title) + paint("dim", unchanged ? ` (${unchanged} unchanged)` : ""));
    if (visible.length === 0) lines.push(paint("dim", "  no changes"));
    for (const change of visible) lines.push(...render(change));
  };

  section("Schedules", plan.schedules, (c) => {
    const name = c.jobId === undefined && c.id === plan.ownership.id ? `${c.id} (ownership record)` : c.id;
    if (c.action === "delete") return [line("delete", name, `${describeSchedule(c.remote!)}${deleteNote}`)];
    const out = [line(c.action, name, c.action === "create" ? describeSchedule(c.spec!) : showDiff(c.diff))];
    if (!c.spec!.paused) {
      const runs = nextRuns(c.spec!.cron, c.spec!.tz, now).map((d) => formatInZone(d, c.spec!.tz));
      if (runs.length) out.push(paint("dim", `      next: ${runs.join(", ")}`));
    }
    return out;
  });
  section("Queues", plan.queues, (c) => {
    if (c.action === "delete") {
      const lag = c.remote!.lag ? `, holds ${c.remote!.lag} message(s): needs --force` : "";
      return [line("delete", c.name, `parallelism ${c.remote!.parallelism}${lag}${deleteNote}`)];
    }
    if (c.action === "create") {
      return [
        line("create", c.name, `parallelism ${c.desired!.parallelism}${c.desired!.paused ? ", paused" : ""}`),
      ];
    }
    return [line(c.action, c.name, showDiff(c.diff))];
  });
  section("Flow control", plan.flowControls, (c) => {
    if (c.action === "delete")
      return [line("delete", c.key, `unpin ${describeLimits(c.remote!)}${deleteNote}`)];
    if (c.action === "create") return [line("create", c.key, `pin ${describeLimits(c.desired!)}`)];
    if (c.action === "waiting") {
      return [
        line(
          "waiting",
          c.key,
          `waiting for its first message: QStash knows a key only once a message used it; the next sync then pins ${describeLimits(c.desired!)}`,
        ),
      ];
    }
    return [line(c.action, c.key, `pin: ${showDiff(c.diff)}`)];
  });

  const { foreign } = plan;
  if (plan.summary.foreign) {
    const parts = [
      foreign.schedules.length && `${foreign.schedules.length} schedule(s)`,
      foreign.queues.length && `${foreign.queues.length} queue(s)`,
      foreign.flowControls.length && `${foreign.flowControls.length} flow-control key(s)`,
    ].filter(Boolean);
    lines.push(
      paint("dim", `Foreign (not owned by ${plan.app}/${plan.env}, left alone): ${parts.join(", ")}`),
    );
    // Named, so a reader can tell "someone else's" from "ours but unrecognised"; capped for big accounts.
    for (const [kind, names] of [
      ["schedules", foreign.schedules],
      ["queues", foreign.queues],
      ["flow-control keys", foreign.flowControls],
    ] as const) {
      if (names.length === 0) continue;
      const shown = names.slice(0, FOREIGN_SHOWN).join(", ");
      const more = names.length > FOREIGN_SHOWN ? `, and ${names.length - FOREIGN_SHOWN} more` : "";
      lines.push(paint("dim", `  ${kind}: ${shown}${more}`));
    }
  }
  const warnings = [...plan.conflicts, ...scheduleWarnings(plan, now).map((w) => `${w.id}: ${w.message}`)];
  if (warnings.length) {
    lines.push(paint("bold", "Warnings"));
    for (const w of warnings) lines.push(`  ${paint("yellow", "!")} ${w}`);
  }
  const s = plan.summary;
  lines.push(
    "",
    `${paint("bold", "Plan:")} ${paint("green", `${s.create} to create`)}, ${paint("yellow", `${s.update} to update`)}, ${paint("red", `${s.delete} to delete`)}${s.delete && !options.prune ? " (needs --prune)" : ""}, ${s.unchanged} unchanged, ${s.waiting ? `${s.waiting} waiting for a first message, ` : ""}${s.foreign} foreign.`,
  );
  return lines.join("\n");
}

/**
 * The plan for machines (`--json`): the plan itself plus next fire times and warnings.
 *
 * @example
 * console.log(JSON.stringify(planToJson(plan), null, 2));
 */
export function planToJson(plan: SyncPlan, options: { now?: Date } = {}): unknown {
  const now = options.now ?? new Date();
  return {
    ...plan,
    drift: hasDrift(plan),
    nextRuns: Object.fromEntries(
      plan.schedules
        .filter((c) => c.spec && !c.spec.paused && (c.action === "create" || c.action === "update"))
        .map((c) => [c.id, nextRuns(c.spec!.cron, c.spec!.tz, now).map((d) => d.toISOString())]),
    ),
    warnings: [...plan.conflicts, ...scheduleWarnings(plan, now).map((w) => `${w.id}: ${w.message}`)],
  };
}
