import pRetry from "p-retry";
import type { ScheduleSpec } from "./desired.js";
import {
  diffSchedule,
  type FlowControlChange,
  type Ownership,
  ownershipSpec,
  type QueueChange,
  type ScheduleChange,
  type SyncPlan,
} from "./plan.js";
import type { SyncClient } from "./remote.js";

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

/** One change that did not happen, and why. */
export interface SkippedChange {
  name: string;
  reason: string;
}

/** What `applySync` did. */
export interface ApplyReport {
  created: string[];
  updated: string[];
  deleted: string[];
  skipped: SkippedChange[];
  failed: { name: string; error: string }[];
  /** Write calls sent to QStash, retries included. */
  writes: number;
  /** Of those, how many were retries. */
  retried: number;
  durationMs: number;
}

/** A failed apply: the report says what was done before the failures. */
export class SyncApplyError extends Error {
  readonly exitCode = 1;
  constructor(readonly report: ApplyReport) {
    super(
      `${report.failed.length} change(s) failed:\n${report.failed.map((f) => `  - ${f.name}: ${f.error}`).join("\n")}\nRe-run to converge: completed changes are not repeated.`,
    );
    this.name = "SyncApplyError";
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}

/** Transient: rate limits, server errors and failures to reach QStash at all. */
function transient(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined)
    return error instanceof TypeError || /fetch failed|ECONN|ETIMEDOUT|socket/i.test(String(error));
  return status === 429 || status >= 500;
}

/**
 * How long QStash asked us to wait: the SDK's rate-limit errors carry the reset header
 * (epoch seconds, epoch ms or seconds from now); capped so one bad value cannot stall CI.
 */
export function waitFor(error: unknown, now = Date.now()): number | undefined {
  const raw =
    (error as { reset?: unknown; retryAfter?: unknown })?.retryAfter ?? (error as { reset?: unknown })?.reset;
  if (raw === null || raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) return undefined;
  let ms: number;
  if (value > 1e12) ms = value - now;
  else if (value > 1e9) ms = value * 1000 - now;
  else ms = value * 1000;
  return Math.min(Math.max(ms, 0), 60_000);
}

/**
 * Run one QStash call, retrying 429, 5xx and network errors: waiting what QStash asked for
 * when it says, else doubling from `minRetryDelay`.
 *
 * @example
 * const schedules = await withRetry(() => client.schedules.list(), { retries: 3 });
 */
export function withRetry<T>(
  fn: () => Promise<T>,
  options: { retries?: number; minRetryDelay?: number; onRetry?: () => void } = {},
): Promise<T> {
  const minDelay = options.minRetryDelay ?? 200;
  return pRetry(fn, {
    retries: options.retries ?? 5,
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    shouldRetry: ({ error }) => transient(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft <= 0 || !transient(error)) return;
      options.onRetry?.();
      await sleep(waitFor(error) ?? minDelay * 2 ** (attemptNumber - 1));
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run tasks with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(workers);
}

function cronWithZone(spec: ScheduleSpec): string {
  return spec.tz === "UTC" ? spec.cron : `CRON_TZ=${spec.tz} ${spec.cron}`;
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
  const started = Date.now();
  const { client } = options;
  const report: ApplyReport = {
    created: [],
    updated: [],
    deleted: [],
    skipped: [],
    failed: [],
    writes: 0,
    retried: 0,
    durationMs: 0,
  };
  const minDelay = options.minRetryDelay ?? 200;

  const call = (fn: () => Promise<unknown>) =>
    withRetry(
      () => {
        report.writes++;
        return fn();
      },
      { retries: options.retries, minRetryDelay: minDelay, onRetry: () => report.retried++ },
    );

  const recordId = plan.ownership.id;
  const work = <T extends ScheduleChange | QueueChange | FlowControlChange>(changes: readonly T[]) =>
    changes.filter(
      (c) =>
        c.action !== "unchanged" && c.action !== "waiting" && !(c.kind === "schedule" && c.id === recordId),
    );
  const writes = [...work(plan.schedules), ...work(plan.queues), ...work(plan.flowControls)].filter(
    (c) => c.action !== "delete",
  );
  const deletes = [...work(plan.schedules), ...work(plan.queues), ...work(plan.flowControls)].filter(
    (c) => c.action === "delete",
  );
  const total = writes.length + (options.prune ? deletes.length : 0);
  let done = 0;

  const nameOf = (c: ScheduleChange | QueueChange | FlowControlChange) =>
    c.kind === "schedule"
      ? `schedule ${c.id}`
      : c.kind === "queue"
        ? `queue ${c.name}`
        : `flow-control key ${c.key}`;

  const run = async (change: ScheduleChange | QueueChange | FlowControlChange) => {
    try {
      if (change.kind === "schedule") await writeSchedule(change);
      else if (change.kind === "queue") await writeQueue(change);
      else await writeFlowControl(change);
      (change.action === "create"
        ? report.created
        : change.action === "update"
          ? report.updated
          : report.deleted
      ).push(nameOf(change));
    } catch (error) {
      if (error instanceof Skip) report.skipped.push({ name: nameOf(change), reason: error.message });
      else report.failed.push({ name: nameOf(change), error: (error as Error).message ?? String(error) });
    }
    options.onProgress?.({ done: ++done, total });
  };

  const writeSchedule = async (change: ScheduleChange) => {
    if (change.action === "delete") {
      await call(() => client.schedules.delete(change.id));
      return;
    }
    await createSchedule(change.id, change.spec!, change.remote);
  };

  const createSchedule = async (id: string, spec: ScheduleSpec, remote: ScheduleSpec | undefined) => {
    const { "content-type": contentType, ...forward } = spec.headers;
    await call(() =>
      client.schedules.create({
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
    if (spec.paused) await call(() => client.schedules.pause({ schedule: id }));
    else if (remote?.paused) await call(() => client.schedules.resume({ schedule: id }));
  };

  const writeQueue = async (change: QueueChange) => {
    const queue = client.queue({ queueName: change.name });
    if (change.action === "delete") {
      if (!options.force && (change.remote?.lag ?? 0) > 0) {
        throw new Skip(
          `holds ${change.remote!.lag} undelivered message(s); pass --force to delete it anyway`,
        );
      }
      await call(() => queue.delete());
      return;
    }
    await call(() =>
      queue.upsert({ parallelism: change.desired!.parallelism, paused: change.desired!.paused }),
    );
  };

  const writeFlowControl = async (change: FlowControlChange) => {
    if (change.action === "delete") {
      await call(() => client.flowControl.unpin(change.key, { parallelism: true, rate: true }));
      return;
    }
    const want = change.desired!;
    const pin = {
      ...(want.parallelism !== undefined && { parallelism: want.parallelism }),
      ...(want.rate !== undefined && { rate: want.rate, period: want.period ?? 1 }),
    };
    try {
      await call(() => client.flowControl.pin(change.key, pin));
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
    if (unpin.parallelism || unpin.rate) await call(() => client.flowControl.unpin(change.key, unpin));
  };

  await pool(writes, options.concurrency ?? 8, run);
  if (options.prune) {
    await pool(deletes, options.concurrency ?? 8, run);
  } else {
    for (const change of deletes) {
      report.skipped.push({ name: nameOf(change), reason: "not declared in code; pass --prune to delete" });
    }
  }

  // The record last: it only drops a name once that name's delete has succeeded.
  const deleted = new Set(report.deleted);
  const owned: Ownership = {
    queues: plan.ownership.owned.queues.filter((q) => !deleted.has(`queue ${q}`)),
    flowControls: plan.ownership.owned.flowControls.filter((k) => !deleted.has(`flow-control key ${k}`)),
  };
  const record = plan.schedules.find((c) => c.id === recordId);
  try {
    if (owned.queues.length + owned.flowControls.length > 0) {
      const spec = ownershipSpec(plan, owned);
      if (!record?.remote || diffSchedule(record.remote, spec).length > 0) {
        await createSchedule(recordId, spec, record?.remote);
        (record?.remote ? report.updated : report.created).push(`schedule ${recordId}`);
      }
    } else if (record?.remote && options.prune) {
      await call(() => client.schedules.delete(recordId));
      report.deleted.push(`schedule ${recordId}`);
    }
  } catch (error) {
    report.failed.push({ name: `schedule ${recordId}`, error: (error as Error).message });
  }

  report.durationMs = Date.now() - started;
  if (report.failed.length) throw new SyncApplyError(report);
  return report;
}

class Skip extends Error {}
