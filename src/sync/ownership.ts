import type { EnvSource } from "../config.js";
import type { ScheduleSpec } from "./spec.js";

/**
 * What an app and environment own in QStash, and so what sync may change or delete. A
 * schedule is owned through its id prefix and its label. Queues and flow-control keys cannot
 * carry a label, so each app/env keeps an ownership record: a paused schedule whose body
 * lists the names it created. The planner, the apply, `jobstash schedules` and
 * `jobstash doctor` all ask this module; none decides ownership on its own.
 */

/** Names this app and environment created; kept in QStash so prune knows what it may delete. */
export interface Ownership {
  queues: readonly string[];
  flowControls: readonly string[];
}

/** The two kinds of named resource an ownership record lists. */
export type NamedKind = keyof Ownership;

const ENV_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const LABEL_PREFIX = "jobstash.";
/** The last segment of an ownership record's id; no job id starts with "_". */
const RECORD = "_jobstash";

/** Default environment name: `JOBSTASH_ENV`, else development. */
export function defaultEnv(bindings: EnvSource = process.env): string {
  const value = bindings.JOBSTASH_ENV;
  return typeof value === "string" && value !== "" ? value : "development";
}

/**
 * What is wrong with an environment name, if anything. It is part of every schedule id and
 * of the ownership label, which parses back only because the name has no dots.
 */
export function envNameProblems(env: string): string[] {
  return ENV_NAME.test(env)
    ? []
    : [`environment ${JSON.stringify(env)} must be 1-64 letters, digits, '_' or '-' (no dots)`];
}

/**
 * The ownership label every schedule this app and env owns carries. Env names have no dots, so it parses back unambiguously.
 *
 * @example
 * ownerLabel("acme", "production"); // "jobstash.acme.production"
 */
export function ownerLabel(app: string, env: string): string {
  return `${LABEL_PREFIX}${app}.${env}`;
}

/** Prefix of every schedule id this app and env owns. */
function schedulePrefix(app: string, env: string): string {
  return `${app}.${env}.`;
}

/** The deterministic id of a job's schedule, so QStash's schedule-id upsert overwrites it in place. */
export function scheduleId(app: string, env: string, jobId: string, id: string): string {
  return `${schedulePrefix(app, env)}${jobId}.${id}`;
}

/**
 * Id of the schedule that records which queues and flow-control keys this app and env
 * created. A job id cannot start with "_", so it never collides with a job's schedule.
 *
 * @example
 * ownershipId("acme", "production"); // "acme.production._jobstash"
 */
export function ownershipId(app: string, env: string): string {
  return `${schedulePrefix(app, env)}${RECORD}`;
}

/** Whether a schedule id is some app's ownership record. */
export function isOwnershipRecord(id: string): boolean {
  return id.endsWith(`.${RECORD}`);
}

/** `app.env` of the first ownership label among these, if any. */
function labelOwner(labels: readonly string[]): string | undefined {
  return labels.find((l) => l.startsWith(LABEL_PREFIX))?.slice(LABEL_PREFIX.length);
}

/** Whether this app and env own a schedule: it needs both the id prefix and the label. */
export function ownsSchedule(app: string, env: string, schedule: { id: string; labels: readonly string[] }) {
  return schedule.id.startsWith(schedulePrefix(app, env)) && schedule.labels.includes(ownerLabel(app, env));
}

/** Whose a schedule is, as `jobstash schedules` shows it. */
export interface ScheduleOwner {
  /** This app and env, another jobstash app or env, or not made by jobstash sync. */
  owner: "this" | "other" | "foreign";
  /** `app/env` of a jobstash owner. */
  ownedBy?: string;
  /** Whether it is an ownership record rather than a job's schedule. */
  record: boolean;
}

/** Whose a schedule is; `app` undefined when no registry says which app "this" is. */
export function scheduleOwner(
  app: string | undefined,
  env: string,
  schedule: { id: string; labels: readonly string[] },
): ScheduleOwner {
  const owned = labelOwner(schedule.labels);
  const mine = app !== undefined && ownsSchedule(app, env, schedule);
  return {
    owner: mine ? "this" : owned ? "other" : "foreign",
    ...(owned !== undefined && { ownedBy: owned.replace(/\.(?=[^.]*$)/, "/") }),
    record: isOwnershipRecord(schedule.id) && owned !== undefined,
  };
}

/** The ownership record: a never-firing (paused) yearly schedule whose body lists the names. */
export function ownershipSpec(
  target: { app: string; env: string; baseUrl: string },
  owned: Ownership,
): ScheduleSpec {
  return {
    destination: `${target.baseUrl}/_jobstash`,
    cron: "0 0 1 1 *",
    tz: "UTC",
    method: "POST",
    body: JSON.stringify({ jobstash: 1, queues: owned.queues, flowControls: owned.flowControls }),
    headers: { "content-type": "application/json" },
    retries: 0,
    retryDelay: undefined,
    timeout: undefined,
    delay: undefined,
    callback: undefined,
    failureCallback: undefined,
    queue: undefined,
    flowControl: undefined,
    labels: [ownerLabel(target.app, target.env)],
    paused: true,
  };
}

/** Parse an ownership record's body; anything unreadable owns nothing. */
export function parseOwnership(body: string | undefined): Ownership {
  try {
    const parsed = JSON.parse(body ?? "") as { queues?: unknown; flowControls?: unknown };
    const names = (value: unknown) =>
      Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
    return { queues: names(parsed.queues), flowControls: names(parsed.flowControls) };
  } catch {
    return { queues: [], flowControls: [] };
  }
}

/** Every ownership record in QStash, read: what this app/env owns, and who claims the rest. */
export interface Claims {
  ours: Ownership;
  /** Name -> `app.env` of the other record that lists it. */
  others: Record<NamedKind, ReadonlyMap<string, string>>;
}

/** Read every app's ownership record, so a name another app or env created is never taken over. */
export function readClaims(
  app: string,
  env: string,
  schedules: readonly { id: string; spec: Pick<ScheduleSpec, "labels" | "body"> }[],
): Claims {
  const recordId = ownershipId(app, env);
  let ours: Ownership = { queues: [], flowControls: [] };
  const others = { queues: new Map<string, string>(), flowControls: new Map<string, string>() };
  for (const schedule of schedules) {
    if (!isOwnershipRecord(schedule.id)) continue;
    const who = labelOwner(schedule.spec.labels);
    if (who === undefined) continue;
    const owned = parseOwnership(schedule.spec.body);
    if (schedule.id === recordId && who === `${app}.${env}`) {
      ours = owned;
      continue;
    }
    for (const name of owned.queues) others.queues.set(name, who);
    for (const key of owned.flowControls) others.flowControls.set(key, who);
  }
  return { ours, others };
}

/** The other app/env that owns a name the code declares; sync leaves such a name alone. */
export function claimedByOther(claims: Claims, kind: NamedKind, name: string): string | undefined {
  return claims.ours[kind].includes(name) ? undefined : claims.others[kind].get(name);
}

/** Whether prune may delete a queue or key the code no longer declares: only one our record lists. */
export function mayDelete(claims: Claims, kind: NamedKind, name: string): boolean {
  return claims.ours[kind].includes(name);
}

/**
 * What the record lists once a plan is applied: every queue and key the plan keeps or
 * deletes (never a conflict or a foreign name). A deleted name is dropped by
 * {@link stillOwned} once its delete has succeeded, so a failed delete is retried next run.
 */
export function ownedAfterPlan(planned: Record<NamedKind, Iterable<string>>): Ownership {
  return {
    queues: [...new Set(planned.queues)].sort(),
    flowControls: [...new Set(planned.flowControls)].sort(),
  };
}

/** The record's names without those whose delete succeeded. */
export function stillOwned(owned: Ownership, deleted: Record<NamedKind, ReadonlySet<string>>): Ownership {
  return {
    queues: owned.queues.filter((q) => !deleted.queues.has(q)),
    flowControls: owned.flowControls.filter((k) => !deleted.flowControls.has(k)),
  };
}

/** Whether a record listing these names is needed at all; with none, it is deleted under prune. */
export function ownsAnything(owned: Ownership): boolean {
  return owned.queues.length + owned.flowControls.length > 0;
}
