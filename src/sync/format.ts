import { describeLimits } from "../job/resources.js";
import { painter, type Style, supportsColor } from "../util/ansi.js";
import { dstWarnings, formatInZone, nextRuns } from "./dst.js";
import {
  type FlowControlChange,
  hasDrift,
  type QueueChange,
  type ScheduleChange,
  type SyncAction,
  type SyncPlan,
} from "./plan.js";
import type { FieldDiff, ScheduleSpec } from "./spec.js";

/** The plan for people (a terraform-style text) and for machines (`--json`). */

/** Options of {@link formatPlan}. */
export interface FormatOptions {
  /** Use ANSI colour. @default stdout is a TTY and neither NO_COLOR nor TERM=dumb is set */
  color?: boolean;
  /** "Now", for the next fire times and the DST look-ahead. @default new Date() */
  now?: Date;
  /** Whether deletes will run (changes how they are labelled). @default false */
  prune?: boolean;
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

/** The plan's conflicts, then each kept schedule's DST warnings: the text and the JSON list the same. */
function warnings(plan: SyncPlan, now: Date): string[] {
  const out = [...plan.conflicts];
  for (const change of plan.schedules) {
    if (!change.spec || change.action === "delete") continue;
    for (const message of dstWarnings(change.spec.cron, change.spec.tz, now))
      out.push(`${change.id}: ${message}`);
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
  const warned = warnings(plan, now);
  if (warned.length) {
    lines.push(paint("bold", "Warnings"));
    for (const w of warned) lines.push(`  ${paint("yellow", "!")} ${w}`);
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
    warnings: warnings(plan, now),
  };
}
