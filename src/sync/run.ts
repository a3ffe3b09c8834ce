import { Client } from "@upstash/qstash";
import type { EnvSource } from "../config.js";
import { type AnyJobstash, internals } from "../jobstash.js";
import { applySync } from "./apply.js";
import { type DesiredState, desiredState } from "./desired.js";
import { type ApplyReport, SyncReadError, SyncValidationError } from "./errors.js";
import { hasDrift, planSync, type SyncPlan } from "./plan.js";
import { loadRemote, type RemoteState, type SyncClient } from "./remote.js";
import { withRetry } from "./retry.js";

/** Options of {@link syncJobstash}. */
export interface SyncOptions {
  /** Environment name. @default env JOBSTASH_ENV, else "development" */
  env?: string;
  /** Where variables are read from. @default process.env */
  bindings?: EnvSource;
  /** QStash client. @default a `Client` from the registry's QStash URL and token, with SDK retries off */
  client?: SyncClient;
  /** Plan only; write nothing. @default false */
  dryRun?: boolean;
  /** Delete owned resources the code no longer declares. @default false */
  prune?: boolean;
  /** With `prune`, delete queues that still hold messages. @default false */
  force?: boolean;
  /** Accept a per-deployment base URL in production. @default false */
  allowPreviewUrl?: boolean;
  /** QStash calls in flight at once. @default 8 */
  concurrency?: number;
  /** Retries per call on 429 / 5xx / network errors. @default 5 */
  retries?: number;
  /** First retry delay in ms when QStash gives no reset time. @default 200 */
  minRetryDelay?: number;
  /** Called with the plan before anything is written (and on a dry run). */
  onPlan?: (plan: SyncPlan) => void;
  /** Progress of the apply. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** What {@link syncJobstash} found and did. */
export interface SyncResult {
  desired: DesiredState;
  plan: SyncPlan;
  /** Whether QStash differed from the code before this run. */
  drift: boolean;
  /** Absent on a dry run. */
  report?: ApplyReport;
}

/**
 * Validate, read QStash, plan, and (unless `dryRun`) apply: the whole of `jobstash sync`
 * as one call, for deploy scripts and `jobstash dev`.
 *
 * @example
 * const { plan, report } = await syncJobstash(jobs, { env: "production", prune: true });
 */
export async function syncJobstash(jobs: AnyJobstash, options: SyncOptions = {}): Promise<SyncResult> {
  const qstash = connect(jobs, options);
  const { desired, client } = await validate(jobs, options, qstash);
  const remote = await readRemote(client, qstash.url, desired, options);
  const plan = planSync(desired, remote);
  const drift = hasDrift(plan);
  options.onPlan?.(plan);
  if (options.dryRun) return { desired, plan, drift };
  const report = await applySync(plan, { ...options, client });
  return { desired, plan, drift, report };
}

/** The QStash to sync with; a missing token or URL is a problem to report with the rest. */
interface Connection {
  client?: SyncClient;
  /** Where it is, when sync made the client itself. */
  url?: string;
  problems: string[];
}

function connect(jobs: AnyJobstash, options: SyncOptions): Connection {
  if (options.client) return { client: options.client, problems: [] };
  try {
    const { url, token } = internals(jobs)
      .config(options.bindings ?? process.env)
      .qstash();
    return { client: new Client({ baseUrl: url, token, retry: false }), url, problems: [] };
  } catch (error) {
    return { problems: [(error as Error).message] };
  }
}

/** The desired state and the client, or one {@link SyncValidationError} listing the connection's problems and the code's. */
async function validate(
  jobs: AnyJobstash,
  options: SyncOptions,
  qstash: Connection,
): Promise<{ desired: DesiredState; client: SyncClient }> {
  let desired: DesiredState;
  try {
    desired = await desiredState(jobs, options);
  } catch (error) {
    if (error instanceof SyncValidationError) {
      throw new SyncValidationError([...qstash.problems, ...error.problems]);
    }
    throw error;
  }
  if (qstash.problems.length || !qstash.client) throw new SyncValidationError(qstash.problems);
  return { desired, client: qstash.client };
}

/** What QStash holds, each read retried; a failure is a {@link SyncReadError} (nothing was written). */
async function readRemote(
  client: SyncClient,
  url: string | undefined,
  desired: DesiredState,
  options: SyncOptions,
): Promise<RemoteState> {
  try {
    return await loadRemote(client, {
      flowControlKeys: desired.flowControls.map((fc) => fc.key),
      read: (call) => withRetry(call, options),
    });
  } catch (error) {
    const where = url ? ` at ${url}` : "";
    throw new SyncReadError(`could not read QStash${where}: ${(error as Error).message}`, { cause: error });
  }
}
