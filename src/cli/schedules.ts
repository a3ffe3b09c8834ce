import { splitCronZone } from "../protocol.js";
import { formatInZone, nextRuns } from "../sync/dst.js";
import { defaultEnv, type ScheduleOwner, scheduleOwner } from "../sync/ownership.js";
import { listSchedules, type ScheduleInfo } from "./api.js";
import { utc } from "./dlq/list.js";
import { OPS_OPTIONS, type Ops, openOps, opsHelp } from "./ops.js";
import { printJson, table } from "./output.js";
import { parseCommand } from "./shared.js";

const HELP = `Usage: jobstash schedules [options]

Every schedule in QStash, with its owner (this app and environment, another jobstash app or
environment, or foreign: not made by jobstash sync), its job, cron and time zone, its next fire
times, how its last run went, and whether it is paused.

Options:
  -e, --env <name>         The environment whose schedules are this app's (default: $JOBSTASH_ENV
                           or development)
${opsHelp()}

Examples:
  jobstash schedules
  jobstash schedules --env production --json | jq '.schedules[] | select(.owner == "this")'

Exit codes: 0 done, 1 QStash refused or could not be reached, 2 bad input.`;

interface Row extends ScheduleOwner {
  schedule: ScheduleInfo;
  jobId?: string;
  cron: string;
  tz: string;
  next: Date[];
  lastRun?: { time: number; state: "success" | "failed" | "running" };
}

function describe(schedule: ScheduleInfo, ops: Ops, env: string, now: Date): Row {
  const labels = schedule.labels ?? (schedule.label ? [schedule.label] : []);
  const owner = scheduleOwner(ops.registry?.app, env, { id: schedule.scheduleId, labels });
  const { cron, tz } = splitCronZone(schedule.cron);
  const states = Object.values(schedule.lastScheduleStates ?? {});
  return {
    schedule,
    ...owner,
    jobId: owner.record ? undefined : ops.jobOf(schedule.destination).jobId,
    cron,
    tz,
    next: schedule.isPaused || owner.record ? [] : nextRuns(cron, tz, now),
    lastRun:
      schedule.lastScheduleTime === undefined
        ? undefined
        : {
            time: schedule.lastScheduleTime,
            state: states.includes("FAIL")
              ? "failed"
              : states.includes("IN_PROGRESS")
                ? "running"
                : "success",
          },
  };
}

/** `jobstash schedules`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values } = parseCommand("schedules", argv, { ...OPS_OPTIONS, env: { type: "string", short: "e" } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const ops = await openOps(values);
  const env = values.env ?? defaultEnv(process.env);
  const now = new Date();
  const rows = (await ops.api((q) => listSchedules(q)))
    .map((s) => describe(s, ops, env, now))
    .sort((a, b) => a.schedule.scheduleId.localeCompare(b.schedule.scheduleId));
  if (values.json) {
    printJson({
      ...(ops.registry && { app: ops.registry.app }),
      env,
      schedules: rows.map((r) => ({
        scheduleId: r.schedule.scheduleId,
        owner: r.owner,
        ...(r.ownedBy && { ownedBy: r.ownedBy }),
        ...(r.record && { ownershipRecord: true }),
        jobId: r.jobId ?? null,
        destination: r.schedule.destination,
        cron: r.cron,
        tz: r.tz,
        next: r.next.map((d) => d.toISOString()),
        lastRun: r.lastRun ? { time: new Date(r.lastRun.time).toISOString(), state: r.lastRun.state } : null,
        paused: r.schedule.isPaused ?? false,
      })),
    });
    return 0;
  }
  if (!rows.length) {
    console.log(`No schedules in QStash at ${ops.qstash().url}.`);
    return 0;
  }
  const ownerCell = (r: Row) =>
    r.owner === "this" ? "this app" : r.owner === "other" ? r.ownedBy! : "foreign";
  console.log(
    table(
      [
        { title: "SCHEDULE", shrink: true },
        { title: "JOB" },
        { title: "OWNER" },
        { title: "STATE", tone: (c) => (c === "paused" ? "yellow" : undefined) },
        { title: "CRON (ZONE)" },
        { title: "NEXT RUN" },
        { title: "LAST RUN (UTC)", tone: (c) => (c.endsWith("failed") ? "red" : undefined) },
      ],
      rows.map((r) => [
        r.schedule.scheduleId,
        r.record ? "(sync's record)" : (r.jobId ?? "-"),
        ownerCell(r),
        r.schedule.isPaused ? "paused" : "active",
        `${r.cron} (${r.tz})`,
        r.next[0] ? formatInZone(r.next[0], r.tz) : "-",
        r.lastRun ? `${utc(r.lastRun.time)} ${r.lastRun.state}` : "never",
      ]),
    ),
  );
  console.log(
    `\n${rows.length} schedule${rows.length === 1 ? "" : "s"}; "this app" is ${ops.registry ? `app "${ops.registry.app}"` : "(no jobstash.config.ts here)"}, env ${env}.`,
  );
  return 0;
}
