import type { FlowControlLimits } from "../job/resources.js";
import {
  type DesiredFlowControl,
  type DesiredQueue,
  type DesiredState,
  FINGERPRINT_HEADER,
  ownerLabel,
  ownershipId,
  type ScheduleSpec,
  schedulePrefix,
  stable,
} from "./desired.js";
import type { RemoteFlowControl, RemoteQueue, RemoteSchedule, RemoteState } from "./remote.js";

/**
 * What happens to one resource. `waiting`: a declared flow-control key QStash does not know
 * yet; it is pinned by the first sync after a message has used it (not drift, no write).
 */
export type SyncAction = "create" | "update" | "delete" | "unchanged" | "waiting";

/** One field that differs between QStash and the code. */
export interface FieldDiff {
  field: string;
  from: unknown;
  to: unknown;
}

/** A schedule's fate. `spec` is what the code wants, `remote` what QStash holds. */
export interface ScheduleChange {
  kind: "schedule";
  action: SyncAction;
  id: string;
  /** The job that declares it; absent for the ownership record. */
  jobId?: string;
  spec?: ScheduleSpec;
  remote?: ScheduleSpec;
  diff: readonly FieldDiff[];
}

/** A queue's fate. */
export interface QueueChange {
  kind: "queue";
  action: SyncAction;
  name: string;
  desired?: DesiredQueue;
  remote?: RemoteQueue;
  diff: readonly FieldDiff[];
}

/** A flow-control key's fate: create and update pin its limits, delete unpins them. */
export interface FlowControlChange {
  kind: "flowControl";
  action: SyncAction;
  key: string;
  desired?: DesiredFlowControl;
  remote?: RemoteFlowControl;
  diff: readonly FieldDiff[];
}

/** Any change. */
export type SyncChange = ScheduleChange | QueueChange | FlowControlChange;

/** Names this app and environment created; kept in QStash so prune knows what it may delete. */
export interface Ownership {
  queues: readonly string[];
  flowControls: readonly string[];
}

/** What QStash has that this app and env do not own: reported, never changed. */
export interface ForeignResources {
  schedules: readonly string[];
  queues: readonly string[];
  flowControls: readonly string[];
}

/** The full plan `planSync` returns. */
export interface SyncPlan {
  app: string;
  env: string;
  /** Where the jobs are delivered (the ownership record lives under it). */
  baseUrl: string;
  schedules: readonly ScheduleChange[];
  queues: readonly QueueChange[];
  flowControls: readonly FlowControlChange[];
  foreign: ForeignResources;
  /** Declared resources another app or environment owns: left alone, and a reason to fail `--check`. */
  conflicts: readonly string[];
  /** The ownership record's id and the names it lists once the plan is applied (deletes included). */
  ownership: { id: string; owned: Ownership };
  summary: {
    create: number;
    update: number;
    delete: number;
    unchanged: number;
    waiting: number;
    foreign: number;
  };
}

/** The ownership record: a never-firing (paused) yearly schedule whose body lists the names. */
export function ownershipSpec(
  desired: { app: string; env: string; baseUrl: string },
  owned: Ownership,
): ScheduleSpec {
  return {
    destination: `${desired.baseUrl}/_jobstash`,
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
    labels: [ownerLabel(desired.app, desired.env)],
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

/**
 * Queues and flow-control keys: named resources that cannot carry a label, so this
 * app/env owns them through its ownership record. A name another record claims is a
 * conflict and left alone; an undeclared name is deleted only when owned, else foreign.
 */
function planNamed<D extends { declaredBy: string | readonly string[] }, R>(opts: {
  noun: string;
  desired: readonly D[];
  remote: readonly R[];
  nameOf: (resource: D | R) => string;
  fields: readonly string[];
  ours: readonly string[];
  /** Names the server knows; a declared name it does not know waits instead of being created. */
  known?: ReadonlySet<string>;
  claimedBy: ReadonlyMap<string, string>;
  conflicts: string[];
  foreign: string[];
}): {
  changes: { action: SyncAction; name: string; desired?: D; remote?: R; diff: FieldDiff[] }[];
  wanted: Set<string>;
} {
  const remoteByName = new Map(opts.remote.map((resource) => [opts.nameOf(resource), resource]));
  const declared = new Set(opts.desired.map(opts.nameOf));
  const changes: ReturnType<typeof planNamed<D, R>>["changes"] = [];
  const wanted = new Set<string>();
  for (const want of opts.desired) {
    const name = opts.nameOf(want);
    const other = opts.claimedBy.get(name);
    if (other && !opts.ours.includes(name)) {
      opts.conflicts.push(
        `${opts.noun} "${name}" (${[want.declaredBy].flat().join(", ")}) is owned by ${other}; left unchanged`,
      );
      continue;
    }
    wanted.add(name);
    const current = remoteByName.get(name);
    const diff = current
      ? diffFields(opts.fields as (keyof D & keyof R)[], current as D & R, want as D & R)
      : [];
    const absent = opts.known && !opts.known.has(name) ? "waiting" : "create";
    changes.push({
      action: !current ? absent : diff.length ? "update" : "unchanged",
      name,
      desired: want,
      remote: current,
      diff,
    });
  }
  const owned = new Set(opts.ours);
  for (const current of opts.remote) {
    const name = opts.nameOf(current);
    if (wanted.has(name) || declared.has(name)) continue;
    if (owned.has(name)) changes.push({ action: "delete", name, remote: current, diff: [] });
    else opts.foreign.push(name);
  }
  return { changes, wanted };
}

function diffFields<T extends object>(fields: readonly (keyof T)[], from: T, to: T): FieldDiff[] {
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

const LIMIT_FIELDS: readonly (keyof FlowControlLimits)[] = ["parallelism", "rate", "period"];

/**
 * Compare the code with QStash and say what to create, update, delete or leave. Pure: no
 * I/O, no clock. Deletes are listed whether or not the apply will prune, so a dry run shows
 * the orphans; only resources this app and env own are ever planned for deletion.
 *
 * @example
 * const plan = planSync(await desiredState(jobs, { env: "production" }), await loadRemote(client));
 * if (plan.summary.create + plan.summary.update + plan.summary.delete > 0) process.exitCode = 1;
 */
export function planSync(desired: DesiredState, remote: RemoteState): SyncPlan {
  const { app, env } = desired;
  const label = ownerLabel(app, env);
  const prefix = schedulePrefix(app, env);
  const recordId = ownershipId(app, env);

  // Every app's ownership record, so a name another app or env created is never taken over.
  let ours: Ownership = { queues: [], flowControls: [] };
  const claimedBy = { queues: new Map<string, string>(), flowControls: new Map<string, string>() };
  for (const schedule of remote.schedules) {
    if (!schedule.id.endsWith("._jobstash")) continue;
    const owner = schedule.spec.labels.find((l) => l.startsWith("jobstash."));
    if (!owner) continue;
    const owned = parseOwnership(schedule.spec.body);
    if (schedule.id === recordId && owner === label) {
      ours = owned;
      continue;
    }
    const who = owner.slice("jobstash.".length);
    for (const name of owned.queues) claimedBy.queues.set(name, who);
    for (const key of owned.flowControls) claimedBy.flowControls.set(key, who);
  }

  const conflicts: string[] = [];
  const foreign = { schedules: [] as string[], queues: [] as string[], flowControls: [] as string[] };

  const planned = {
    queues: planNamed({
      noun: "queue",
      desired: desired.queues,
      remote: remote.queues,
      nameOf: (queue) => queue.name,
      fields: ["parallelism", "paused"],
      ours: ours.queues,
      claimedBy: claimedBy.queues,
      conflicts,
      foreign: foreign.queues,
    }),
    flowControls: planNamed({
      noun: "flow-control key",
      desired: desired.flowControls,
      remote: remote.flowControls,
      nameOf: (fc) => fc.key,
      fields: LIMIT_FIELDS,
      ours: ours.flowControls,
      known: remote.knownFlowControlKeys && new Set(remote.knownFlowControlKeys),
      claimedBy: claimedBy.flowControls,
      conflicts,
      foreign: foreign.flowControls,
    }),
  };
  const queues: QueueChange[] = planned.queues.changes.map(({ name, ...change }) => ({
    kind: "queue",
    name,
    ...change,
  }));
  const flowControls: FlowControlChange[] = planned.flowControls.changes.map(({ name, ...change }) => ({
    kind: "flowControl",
    key: name,
    ...change,
  }));
  const wantedQueues = planned.queues.wanted;
  const wantedKeys = planned.flowControls.wanted;

  // The record lists what stays owned after this plan: what the code wants, plus owned
  // names whose delete is planned (dropped by apply once the delete succeeds).
  const owned: Ownership = {
    queues: [
      ...new Set([...wantedQueues, ...queues.filter((q) => q.action === "delete").map((q) => q.name)]),
    ].sort(),
    flowControls: [
      ...new Set([...wantedKeys, ...flowControls.filter((f) => f.action === "delete").map((f) => f.key)]),
    ].sort(),
  };
  const wantedSchedules = new Map(desired.schedules.map((s) => [s.id, s]));
  const remoteSchedules = new Map<string, RemoteSchedule>(remote.schedules.map((s) => [s.id, s]));
  // With nothing left to own, the record is an owned schedule the code no longer wants:
  // deleted under --prune like any other.
  if (owned.queues.length + owned.flowControls.length > 0) {
    wantedSchedules.set(recordId, { id: recordId, spec: ownershipSpec(desired, owned) });
  }

  // Schedules.
  const schedules: ScheduleChange[] = [];
  for (const want of wantedSchedules.values()) {
    const current = remoteSchedules.get(want.id);
    const diff = current ? diffSchedule(current.spec, want.spec, current.unreported) : [];
    schedules.push({
      kind: "schedule",
      action: !current ? "create" : diff.length ? "update" : "unchanged",
      id: want.id,
      ...(want.jobId !== undefined && { jobId: want.jobId }),
      spec: want.spec,
      remote: current?.spec,
      diff,
    });
  }
  for (const current of remote.schedules) {
    if (wantedSchedules.has(current.id)) continue;
    if (current.id.startsWith(prefix) && current.spec.labels.includes(label)) {
      schedules.push({ kind: "schedule", action: "delete", id: current.id, remote: current.spec, diff: [] });
    } else {
      foreign.schedules.push(current.id);
    }
  }

  const all: SyncChange[] = [...schedules, ...queues, ...flowControls];
  const count = (action: SyncAction) => all.filter((c) => c.action === action).length;
  return {
    app,
    env,
    baseUrl: desired.baseUrl,
    schedules: schedules.sort(byAction((s) => s.id)),
    queues: queues.sort(byAction((q) => q.name)),
    flowControls: flowControls.sort(byAction((f) => f.key)),
    foreign,
    conflicts,
    ownership: { id: recordId, owned },
    summary: {
      create: count("create"),
      update: count("update"),
      delete: count("delete"),
      unchanged: count("unchanged"),
      waiting: count("waiting"),
      foreign: foreign.schedules.length + foreign.queues.length + foreign.flowControls.length,
    },
  };
}

const ORDER: Record<SyncAction, number> = { create: 0, update: 1, delete: 2, waiting: 3, unchanged: 4 };

function byAction<T extends { action: SyncAction }>(name: (t: T) => string) {
  return (a: T, b: T) =>
    ORDER[a.action] - ORDER[b.action] || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

/**
 * Whether QStash differs from the code (what `jobstash sync --check` fails on). A key
 * waiting for its first message is not drift: no sync could pin it yet.
 *
 * @example
 * if (hasDrift(planSync(desired, remote))) process.exitCode = 1;
 */
export function hasDrift(plan: SyncPlan): boolean {
  return plan.summary.create + plan.summary.update + plan.summary.delete > 0 || plan.conflicts.length > 0;
}
