import type { FlowControlLimits } from "../protocol.js";
import type { DesiredFlowControl, DesiredQueue, DesiredSchedule, DesiredState } from "./desired.js";
import {
  type Claims,
  claimedByOther,
  mayDelete,
  type NamedKind,
  type Ownership,
  ownedAfterPlan,
  ownershipId,
  ownershipSpec,
  ownsAnything,
  ownsSchedule,
  readClaims,
} from "./ownership.js";
import type { RemoteQueue, RemoteState } from "./remote.js";
import { diffFields, diffSchedule, type FieldDiff, type ScheduleSpec } from "./spec.js";

/**
 * The pure middle of a sync: what to create, update, delete or leave, given what the code
 * wants and what QStash holds. Who owns what is asked of ownership.ts; nothing here reads
 * the network or the clock.
 */

/**
 * What happens to one resource. `waiting`: a declared flow-control key QStash does not know
 * yet; it is pinned by the first sync after a message has used it (not drift, no write).
 */
export type SyncAction = "create" | "update" | "delete" | "unchanged" | "waiting";

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
  remote?: FlowControlLimits;
  diff: readonly FieldDiff[];
}

/** Any change. */
export type SyncChange = ScheduleChange | QueueChange | FlowControlChange;

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

/** A queue's or key's fate before it is labelled with its kind. */
interface NamedChange<D, R> {
  action: SyncAction;
  name: string;
  desired?: D;
  remote?: R;
  diff: FieldDiff[];
}

/**
 * Queues and flow-control keys: named resources that cannot carry a label, so this
 * app/env owns them through its ownership record. A name another record claims is a
 * conflict and left alone; an undeclared name is deleted only when owned, else foreign.
 */
function planNamed<D extends { declaredBy: string | readonly string[] }, R>(opts: {
  kind: NamedKind;
  noun: string;
  desired: readonly D[];
  remote: readonly R[];
  nameOf: (resource: D | R) => string;
  fields: readonly string[];
  /** Names the server knows; a declared name it does not know waits instead of being created. */
  known?: ReadonlySet<string>;
  claims: Claims;
  conflicts: string[];
  foreign: string[];
}): NamedChange<D, R>[] {
  const remoteByName = new Map(opts.remote.map((resource) => [opts.nameOf(resource), resource]));
  const declared = new Set(opts.desired.map(opts.nameOf));
  const changes: NamedChange<D, R>[] = [];
  for (const want of opts.desired) {
    const name = opts.nameOf(want);
    const other = claimedByOther(opts.claims, opts.kind, name);
    if (other) {
      opts.conflicts.push(
        `${opts.noun} "${name}" (${[want.declaredBy].flat().join(", ")}) is owned by ${other}; left unchanged`,
      );
      continue;
    }
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
  for (const current of opts.remote) {
    const name = opts.nameOf(current);
    if (declared.has(name)) continue;
    if (mayDelete(opts.claims, opts.kind, name))
      changes.push({ action: "delete", name, remote: current, diff: [] });
    else opts.foreign.push(name);
  }
  return changes;
}

const LIMIT_FIELDS: readonly (keyof FlowControlLimits)[] = ["parallelism", "rate", "period"];

/** The schedules' fates: the code's (and the ownership record, while it owns anything) against QStash's. */
function planSchedules(
  desired: DesiredState,
  remote: RemoteState,
  owned: Ownership,
  foreign: string[],
): ScheduleChange[] {
  const { app, env } = desired;
  const recordId = ownershipId(app, env);
  const wanted = new Map<string, DesiredSchedule>(desired.schedules.map((s) => [s.id, s]));
  // With nothing left to own, the record is an owned schedule the code no longer wants:
  // deleted under --prune like any other.
  if (ownsAnything(owned)) wanted.set(recordId, { id: recordId, spec: ownershipSpec(desired, owned) });
  const remoteById = new Map(remote.schedules.map((s) => [s.id, s]));
  const changes: ScheduleChange[] = [];
  for (const want of wanted.values()) {
    const current = remoteById.get(want.id);
    const diff = current ? diffSchedule(current.spec, want.spec, current.unreported) : [];
    changes.push({
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
    if (wanted.has(current.id)) continue;
    if (ownsSchedule(app, env, { id: current.id, labels: current.spec.labels })) {
      changes.push({ kind: "schedule", action: "delete", id: current.id, remote: current.spec, diff: [] });
    } else {
      foreign.push(current.id);
    }
  }
  return changes;
}

/**
 * Compare the code with QStash and say what to create, update, delete or leave. Pure: no
 * I/O, no clock. Deletes are listed whether or not the apply will prune, so a dry run shows
 * the orphans; only resources this app and env own are ever planned for deletion.
 *
 * @example
 * const plan = planSync(await desiredState(jobs, { env: "production" }), await loadRemote(client));
 * if (hasDrift(plan)) process.exitCode = 1;
 */
export function planSync(desired: DesiredState, remote: RemoteState): SyncPlan {
  const { app, env } = desired;
  const claims = readClaims(app, env, remote.schedules);
  const conflicts: string[] = [];
  const foreign = { schedules: [] as string[], queues: [] as string[], flowControls: [] as string[] };

  const queues: QueueChange[] = planNamed({
    kind: "queues",
    noun: "queue",
    desired: desired.queues,
    remote: remote.queues,
    nameOf: (queue) => queue.name,
    fields: ["parallelism", "paused"],
    claims,
    conflicts,
    foreign: foreign.queues,
  }).map(({ name, ...change }) => ({ kind: "queue", name, ...change }));
  const flowControls: FlowControlChange[] = planNamed({
    kind: "flowControls",
    noun: "flow-control key",
    desired: desired.flowControls,
    remote: remote.flowControls,
    nameOf: (fc) => fc.key,
    fields: LIMIT_FIELDS,
    known: remote.knownFlowControlKeys && new Set(remote.knownFlowControlKeys),
    claims,
    conflicts,
    foreign: foreign.flowControls,
  }).map(({ name, ...change }) => ({ kind: "flowControl", key: name, ...change }));

  const owned = ownedAfterPlan({
    queues: queues.map((q) => q.name),
    flowControls: flowControls.map((f) => f.key),
  });
  const schedules = planSchedules(desired, remote, owned, foreign.schedules);

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
    ownership: { id: ownershipId(app, env), owned },
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
