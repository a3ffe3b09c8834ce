import { cronWithZone, DEFAULT_PERIOD_SECONDS } from "../protocol.js";
import { statusOf } from "../qstash.js";
import { type ApplyReport, SyncApplyError } from "./errors.js";
import { type NamedKind, ownershipSpec, ownsAnything, stillOwned } from "./ownership.js";
import type { FlowControlChange, QueueChange, ScheduleChange, SyncChange, SyncPlan } from "./plan.js";
import type { SyncClient } from "./remote.js";
import { type RetryOptions, withRetry } from "./retry.js";
import { diffSchedule, type ScheduleSpec } from "./spec.js";

/**
 * The effects of a sync: the plan's changes written to QStash, each call retried, the
 * ownership record last. Every write is idempotent, so an interrupted run converges.
 */

/** Options of {@link applySync}. */
export interface ApplyOptions {
  /** The QStash client; give it `retry: false` so retries are counted and paced here. */
  client: SyncClient;
  /** Delete owned resources the code no longer declares. @default false */
  prune?: boolean;
  /** With `prune`, also delete queues that still hold messages (they are cancelled). @default false */
  force?: boolean;
  /** QStash calls in flight at once. @default 8 */
  concurrency?: number;
  /** Retries of one call on 429, 5xx or a network error. @default 5 */
  retries?: number;
  /** First retry delay in ms (doubles each time) when QStash gives no reset time. @default 200 */
  minRetryDelay?: number;
  /** Called after each finished change, for a progress line. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** One apply in progress: what every step reads and adds to. */
interface Run {
  plan: SyncPlan;
  options: ApplyOptions;
  client: SyncClient;
  /** Creates and updates, written first. */
  writes: SyncChange[];
  /** Deletes, written after every other change and only with `prune`. */
  deletes: SyncChange[];
  concurrency: number;
  started: number;
  report: ApplyReport;
  /** Queues and keys whose delete succeeded, so the record stops listing them. */
  deleted: Record<NamedKind, Set<string>>;
  done: number;
  total: number;
}

/**
 * Make QStash match the plan: creates and updates first, deletes last (only with `prune`),
 * the ownership record at the very end. Calls run with bounded concurrency and each is
 * retried on 429 / 5xx / network errors. Every write is idempotent (schedule-id upsert,
 * queue upsert, pin), so an interrupted run converges when re-run. Throws
 * {@link SyncApplyError} when a change still fails after its retries.
 *
 * @example
 * const plan = planSync(desired, await loadRemote(client));
 * const report = await applySync(plan, { client, prune: true });
 */
export async function applySync(plan: SyncPlan, options: ApplyOptions): Promise<ApplyReport> {
  const run = startRun(plan, options);
  await inPool(run.writes, run.concurrency, (change) => applyChange(run, change));
  if (options.prune) await inPool(run.deletes, run.concurrency, (change) => applyChange(run, change));
  else for (const change of run.deletes) skip(run, change, "not declared in code; pass --prune to delete");
  await writeOwnershipRecord(run);
  return finish(run);
}

/** The run's state, with the plan's pending changes split into writes and deletes. */
function startRun(plan: SyncPlan, options: ApplyOptions): Run {
  // The record is not among them: writeOwnershipRecord decides it once the rest is done.
  const pending = [...plan.schedules, ...plan.queues, ...plan.flowControls].filter(
    (c) =>
      c.action !== "unchanged" &&
      c.action !== "waiting" &&
      !(c.kind === "schedule" && c.id === plan.ownership.id),
  );
  const writes = pending.filter((c) => c.action !== "delete");
  const deletes = pending.filter((c) => c.action === "delete");
  return {
    plan,
    options,
    client: options.client,
    writes,
    deletes,
    concurrency: options.concurrency ?? 8,
    started: Date.now(),
    report: {
      created: [],
      updated: [],
      deleted: [],
      skipped: [],
      failed: [],
      writes: 0,
      retried: 0,
      durationMs: 0,
    },
    deleted: { queues: new Set(), flowControls: new Set() },
    done: 0,
    total: writes.length + (options.prune ? deletes.length : 0),
  };
}

/** The report, or a {@link SyncApplyError} carrying it when a change failed. */
function finish(run: Run): ApplyReport {
  run.report.durationMs = Date.now() - run.started;
  if (run.report.failed.length) throw new SyncApplyError(run.report);
  return run.report;
}

/** Run tasks with at most `limit` in flight. */
async function inPool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(workers);
}

/** One QStash write, counted and retried. */
function call(run: Run, fn: () => Promise<unknown>): Promise<unknown> {
  const retry: RetryOptions = {
    retries: run.options.retries,
    minRetryDelay: run.options.minRetryDelay,
    onRetry: () => run.report.retried++,
  };
  return withRetry(() => {
    run.report.writes++;
    return fn();
  }, retry);
}

/** How a change is named in the report. */
function nameOf(change: SyncChange): string {
  if (change.kind === "schedule") return `schedule ${change.id}`;
  if (change.kind === "queue") return `queue ${change.name}`;
  return `flow-control key ${change.key}`;
}

/** A change sync chose not to make; not a failure. */
class Skip extends Error {}

function skip(run: Run, change: SyncChange, reason: string): void {
  run.report.skipped.push({ name: nameOf(change), reason });
}

/** Write one change and record the outcome: done, skipped (with why) or failed. */
async function applyChange(run: Run, change: SyncChange): Promise<void> {
  try {
    if (change.kind === "schedule") await writeSchedule(run, change);
    else if (change.kind === "queue") await writeQueue(run, change);
    else await writeFlowControl(run, change);
    done(run, change);
  } catch (error) {
    if (error instanceof Skip) skip(run, change, error.message);
    else run.report.failed.push({ name: nameOf(change), error: (error as Error).message ?? String(error) });
  }
  run.options.onProgress?.({ done: ++run.done, total: run.total });
}

/** A change made: reported, and a deleted queue or key noted for the record. */
function done(run: Run, change: SyncChange): void {
  const { report } = run;
  const list =
    change.action === "create"
      ? report.created
      : change.action === "update"
        ? report.updated
        : report.deleted;
  list.push(nameOf(change));
  if (change.action !== "delete") return;
  if (change.kind === "queue") run.deleted.queues.add(change.name);
  if (change.kind === "flowControl") run.deleted.flowControls.add(change.key);
}

async function writeSchedule(run: Run, change: ScheduleChange): Promise<void> {
  if (change.action === "delete") await call(run, () => run.client.schedules.delete(change.id));
  else await putSchedule(run, change.id, change.spec!, change.remote);
}

/** Create or overwrite a schedule (QStash upserts by id), then state its paused flag. */
async function putSchedule(run: Run, id: string, spec: ScheduleSpec, remote: ScheduleSpec | undefined) {
  const { schedules } = run.client;
  const { "content-type": contentType, ...forward } = spec.headers;
  await call(run, () =>
    schedules.create({
      scheduleId: id,
      destination: spec.destination,
      cron: cronWithZone(spec),
      method: spec.method as "POST",
      ...(spec.body !== undefined && { body: spec.body }),
      headers: { ...(contentType && { "Content-Type": contentType }), ...forward },
      retries: spec.retries,
      ...(spec.retryDelay !== undefined && { retryDelay: spec.retryDelay }),
      ...(spec.timeout !== undefined && { timeout: spec.timeout }),
      ...(spec.delay !== undefined && { delay: spec.delay }),
      ...(spec.callback !== undefined && { callback: spec.callback }),
      ...(spec.failureCallback !== undefined && { failureCallback: spec.failureCallback }),
      ...(spec.queue !== undefined && { queueName: spec.queue }),
      ...(spec.flowControl && {
        flowControl: spec.flowControl as { key: string; parallelism: number },
      }),
      label: [...spec.labels],
    }),
  );
  // Whether an overwrite keeps the paused flag is QStash's business; state it either way.
  if (spec.paused) await call(run, () => schedules.pause({ schedule: id }));
  else if (remote?.paused) await call(run, () => schedules.resume({ schedule: id }));
}

async function writeQueue(run: Run, change: QueueChange): Promise<void> {
  const queue = run.client.queue({ queueName: change.name });
  if (change.action !== "delete") {
    const { parallelism, paused } = change.desired!;
    await call(run, () => queue.upsert({ parallelism, paused }));
    return;
  }
  const lag = change.remote?.lag ?? 0;
  if (!run.options.force && lag > 0) {
    throw new Skip(`holds ${lag} undelivered message(s); pass --force to delete it anyway`);
  }
  await call(run, () => queue.delete());
}

async function writeFlowControl(run: Run, change: FlowControlChange): Promise<void> {
  const { flowControl } = run.client;
  if (change.action === "delete") {
    await call(run, () => flowControl.unpin(change.key, { parallelism: true, rate: true }));
    return;
  }
  const want = change.desired!;
  const pin = {
    ...(want.parallelism !== undefined && { parallelism: want.parallelism }),
    ...(want.rate !== undefined && { rate: want.rate, period: want.period ?? DEFAULT_PERIOD_SECONDS }),
  };
  try {
    await call(run, () => flowControl.pin(change.key, pin));
  } catch (error) {
    // The plan waits for keys QStash does not know; one it forgot since the read is no
    // failed deploy either.
    if (statusOf(error) === 404 && change.action === "create") {
      throw new Skip("QStash no longer knows this key; the first sync after a message has used it pins it");
    }
    throw error;
  }
  // A limit dropped from the code must stop being pinned, not linger at its old value.
  const unpin = {
    parallelism: want.parallelism === undefined && change.remote?.parallelism !== undefined,
    rate: want.rate === undefined && change.remote?.rate !== undefined,
  };
  if (unpin.parallelism || unpin.rate) await call(run, () => flowControl.unpin(change.key, unpin));
}

/**
 * The record last: it drops a name only once that name's delete has succeeded, so a failed
 * delete stays owned and the next run retries it. With nothing left to own, prune deletes it.
 */
async function writeOwnershipRecord(run: Run): Promise<void> {
  const { plan, report } = run;
  const id = plan.ownership.id;
  const owned = stillOwned(plan.ownership.owned, run.deleted);
  const current = plan.schedules.find((c) => c.id === id)?.remote;
  try {
    if (ownsAnything(owned)) {
      const spec = ownershipSpec(plan, owned);
      if (!current || diffSchedule(current, spec).length > 0) {
        await putSchedule(run, id, spec, current);
        (current ? report.updated : report.created).push(`schedule ${id}`);
      }
    } else if (current && run.options.prune) {
      await call(run, () => run.client.schedules.delete(id));
      report.deleted.push(`schedule ${id}`);
    }
  } catch (error) {
    report.failed.push({ name: `schedule ${id}`, error: (error as Error).message });
  }
}
