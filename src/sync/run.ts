import { Client } from "@upstash/qstash";
import type { EnvSource } from "../config.js";
import { type AnyJobstash, internals } from "../jobstash.js";
import { type ApplyReport, applySync, withRetry } from "./apply.js";
import { type DesiredState, desiredState, SyncValidationError } from "./desired.js";
import { hasDrift, planSync, type SyncPlan } from "./plan.js";
import { loadRemote, type SyncClient } from "./remote.js";

/** QStash could not be read (after retries); nothing was written. */
export class SyncReadError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SyncReadError";
  }
}

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
export async function syncJobstash(jobstash: AnyJobstash, options: SyncOptions = {}): Promise<SyncResult> {
  const bindings = options.bindings ?? process.env;
  let client = options.client;
  const problems: string[] = [];
  let qstashUrl: string | undefined;
  if (!client) {
    try {
      const { url, token } = internals(jobstash).config(bindings).qstash();
      qstashUrl = url;
      client = new Client({ baseUrl: url, token, retry: false });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  let desired: DesiredState;
  try {
    desired = await desiredState(jobstash, options);
  } catch (error) {
    if (error instanceof SyncValidationError) throw new SyncValidationError([...problems, ...error.problems]);
    throw error;
  }
  if (problems.length || !client) throw new SyncValidationError(problems);

  let remote: Awaited<ReturnType<typeof loadRemote>>;
  try {
    remote = await loadRemote(client, {
      flowControlKeys: desired.flowControls.map((fc) => fc.key),
      read: (call) => withRetry(call, options),
    });
  } catch (error) {
    throw new SyncReadError(
      `could not read QStash${qstashUrl ? ` at ${qstashUrl}` : ""}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const plan = planSync(desired, remote);
  const drift = hasDrift(plan);
  options.onPlan?.(plan);
  if (options.dryRun) return { desired, plan, drift };
  const report = await applySync(plan, { ...options, client });
  return { desired, plan, drift, report };
}
