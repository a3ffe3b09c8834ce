import { createHash } from "node:crypto";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { CronExpressionParser } from "cron-parser";
import type { EnvSource } from "../config.js";
import { ConfigError, formatIssues, JobstashError } from "../errors.js";
import { isTimeZone } from "../job/cron.js";
import type { FlowControlLimits } from "../job/resources.js";
import { type AnyJobstash, buildRequest, internals } from "../jobstash.js";

/**
 * Everything QStash stores about a schedule that sync decides, in one comparable shape.
 * Desired schedules (from code) and remote ones (from `GET /v2/schedules`) are both turned
 * into this, so the planner compares like with like.
 */
export interface ScheduleSpec {
  destination: string;
  /** Five-field cron, without a `CRON_TZ=` prefix. */
  cron: string;
  /** IANA zone the cron is read in. */
  tz: string;
  method: string;
  body: string | undefined;
  /** Forwarded headers and Content-Type, names lower-cased, repeated values joined with ", ". */
  headers: Record<string, string>;
  retries: number;
  retryDelay: string | undefined;
  /** Seconds. */
  timeout: number | undefined;
  /** Seconds. */
  delay: number | undefined;
  callback: string | undefined;
  failureCallback: string | undefined;
  queue: string | undefined;
  flowControl: FlowControlLimits | undefined;
  labels: readonly string[];
  paused: boolean;
}

/**
 * Forwarded header holding a hash of the rest of the schedule. Fields QStash does not echo
 * back (the schedule object has no `timeout` in the SDK's type) are compared through it, so a
 * no-op run stays a no-op against such a server and a real change is still seen.
 */
export const FINGERPRINT_HEADER = "jobstash-sync";

/** JSON with sorted keys, so objects compare by content whatever their key order. */
export function stable(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Hash of everything in a spec but the fingerprint itself. */
export function fingerprint(spec: ScheduleSpec): string {
  const { [FINGERPRINT_HEADER]: _, ...headers } = spec.headers;
  return createHash("sha256")
    .update(stable({ ...spec, headers, labels: [...spec.labels].sort() }))
    .digest("hex")
    .slice(0, 16);
}

/** A schedule the code wants, with its deterministic QStash id. */
export interface DesiredSchedule {
  id: string;
  /** The job that declared it (absent for the ownership record). */
  jobId?: string;
  spec: ScheduleSpec;
}

/** A queue the code wants. */
export interface DesiredQueue {
  name: string;
  parallelism: number;
  paused: boolean;
  /** `defineQueue("x")` or `job "y"` (implied by `queue: "x"`). */
  declaredBy: string;
}

/** A flow-control key whose limits the code pins. */
export interface DesiredFlowControl extends FlowControlLimits {
  declaredBy: readonly string[];
}

/** What QStash should hold for one app and environment. */
export interface DesiredState {
  app: string;
  env: string;
  /** Public base URL the jobs are delivered to. */
  baseUrl: string;
  schedules: readonly DesiredSchedule[];
  queues: readonly DesiredQueue[];
  flowControls: readonly DesiredFlowControl[];
}

/** Options of {@link desiredState}. */
export interface DesiredStateOptions {
  /**
   * Environment name; part of every schedule id and of the ownership label.
   * @default env JOBSTASH_ENV, else "development"
   */
  env?: string;
  /** Where `JOBSTASH_BASE_URL` and friends are read from. @default process.env */
  bindings?: EnvSource;
  /**
   * Accept a per-deployment base URL (e.g. a `*.vercel.app` preview host) in production.
   * @default false
   */
  allowPreviewUrl?: boolean;
}

/** Sync refused to start: every problem found, each saying what to fix. Exit code 2. */
export class SyncValidationError extends JobstashError {
  static override readonly kind: string = "SyncValidationError";
  readonly exitCode = 2;
  constructor(readonly problems: readonly string[]) {
    super(`sync cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const ENV_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Default environment name: `JOBSTASH_ENV`, else development. */
export function defaultEnv(bindings: EnvSource = process.env): string {
  const value = bindings.JOBSTASH_ENV;
  return typeof value === "string" && value !== "" ? value : "development";
}

/** Environments where deliveries must reach a public, stable https URL. */
function isLocal(env: string): boolean {
  return /^(dev|development|local|test)$/i.test(env);
}

function isProduction(env: string): boolean {
  return /^(prod|production)$/i.test(env);
}

/**
 * Hosts that name one deployment rather than the app: schedules pointing there keep firing
 * at an old build (or at nothing once it is deleted).
 *
 * @example
 * perDeploymentHost("acme-git-main-team.vercel.app"); // "a Vercel deployment or preview host"
 */
export function perDeploymentHost(host: string): string | undefined {
  if (/\.vercel\.app$/i.test(host) && /-git-|-[a-z0-9]{9}(-[a-z0-9-]+)?\.vercel\.app$/i.test(host)) {
    return "a Vercel deployment or preview host";
  }
  if (/--[a-z0-9-]+\.netlify\.app$/i.test(host)) return "a Netlify deploy-preview host";
  if (/^[0-9a-f]{8}\.[a-z0-9-]+\.pages\.dev$/i.test(host)) return "a Cloudflare Pages deployment host";
  return undefined;
}

/**
 * The ownership label every schedule this app and env owns carries. Env names have no dots, so it parses back unambiguously.
 *
 * @example
 * ownerLabel("acme", "production"); // "jobstash.acme.production"
 */
export function ownerLabel(app: string, env: string): string {
  return `jobstash.${app}.${env}`;
}

/** Prefix of every schedule id this app and env owns. */
export function schedulePrefix(app: string, env: string): string {
  return `${app}.${env}.`;
}

/**
 * Id of the schedule that records which queues and flow-control keys this app and env
 * created. A job id cannot start with "_", so it never collides with a job's schedule.
 *
 * @example
 * ownershipId("acme", "production"); // "acme.production._jobstash"
 */
export function ownershipId(app: string, env: string): string {
  return `${schedulePrefix(app, env)}_jobstash`;
}

/**
 * What QStash should hold for this registry and environment. Checks everything that can be
 * checked before a write (base URL, crons, time zones, schedule inputs against the schema)
 * and throws one {@link SyncValidationError} listing every problem.
 *
 * @example
 * const desired = await desiredState(jobs, { env: "production" });
 */
export async function desiredState(
  jobstash: AnyJobstash,
  options: DesiredStateOptions = {},
): Promise<DesiredState> {
  const bindings = options.bindings ?? process.env;
  const env = options.env ?? defaultEnv(bindings);
  const problems: string[] = [];
  if (!ENV_NAME.test(env)) {
    problems.push(`environment ${JSON.stringify(env)} must be 1-64 letters, digits, '_' or '-' (no dots)`);
  }
  const { app } = jobstash;
  const inner = internals(jobstash);
  const config = inner.config(bindings);

  let baseUrl = "";
  try {
    baseUrl = config.baseUrl();
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (baseUrl && !isLocal(env)) {
    const url = new URL(baseUrl);
    if (url.protocol !== "https:") {
      problems.push(
        `JOBSTASH_BASE_URL ${baseUrl} is not https; QStash delivers ${env} jobs to a public https URL (e.g. https://example.com/api/jobs)`,
      );
    }
    const kind = perDeploymentHost(url.hostname);
    if (kind && isProduction(env) && !options.allowPreviewUrl) {
      problems.push(
        `JOBSTASH_BASE_URL ${baseUrl} looks like ${kind}; production schedules would follow that one deployment. Use the production domain, or pass --allow-preview-url if this is intended`,
      );
    }
  }
  if (problems.length) throw new SyncValidationError(problems);

  const label = ownerLabel(app, env);
  const schedules: DesiredSchedule[] = [];
  for (const job of jobstash.jobs.values()) {
    for (const schedule of job.schedules) {
      const where = `job "${job.id}" schedules["${schedule.id}"]`;
      try {
        CronExpressionParser.parse(schedule.cron, { tz: schedule.tz });
      } catch (error) {
        problems.push(
          `${where}: cron ${JSON.stringify(schedule.cron)} is invalid: ${(error as Error).message}`,
        );
        continue;
      }
      if (!isTimeZone(schedule.tz)) {
        problems.push(
          `${where}: tz ${JSON.stringify(schedule.tz)} is not an IANA time zone (e.g. "Europe/Paris")`,
        );
        continue;
      }
      // The definition could only check synchronous schemas; async ones are checked here.
      const result = await job.input["~standard"].validate(schedule.input);
      if (result.issues) {
        problems.push(`${where}: input does not match the job's schema:\n${formatIssues(result.issues)}`);
        continue;
      }
      let request: ReturnType<typeof buildRequest>;
      try {
        request = buildRequest(
          job,
          schedule.input,
          (result as StandardSchemaV1.SuccessResult<unknown>).value,
          {},
          config,
          (field, problem) => {
            throw new ConfigError(`${where}: ${field} ${problem}`);
          },
        );
      } catch (error) {
        problems.push((error as Error).message);
        continue;
      }
      const spec: ScheduleSpec = {
        destination: request.url,
        cron: schedule.cron,
        tz: schedule.tz,
        method: "POST",
        body: schedule.input === undefined ? undefined : JSON.stringify(schedule.input),
        headers: lowerCaseHeaders({ "Content-Type": "application/json", ...request.headers }),
        retries: request.retries,
        retryDelay: request.retryDelay,
        timeout: request.timeout,
        delay: request.delay,
        callback: request.callback,
        failureCallback: request.failureCallback,
        queue: request.queueName,
        flowControl: request.flowControl && normalizeFlowControl(request.flowControl),
        labels: [request.label, label],
        paused: false,
      };
      spec.headers[FINGERPRINT_HEADER] = fingerprint(spec);
      schedules.push({ id: `${schedulePrefix(app, env)}${job.id}.${schedule.id}`, jobId: job.id, spec });
    }
  }
  if (problems.length) throw new SyncValidationError(problems);

  return {
    app,
    env,
    baseUrl,
    schedules,
    queues: inner.resources.queues.map(({ name, parallelism, paused, declaredBy }) => ({
      name,
      parallelism,
      paused,
      declaredBy,
    })),
    flowControls: inner.resources.flowControls.map((fc) => ({ ...fc })),
  };
}

/** Lower-case names, so `Content-Type` from code and `content-type` from QStash compare equal. */
export function lowerCaseHeaders(
  headers: Record<string, string | readonly string[]>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = typeof value === "string" ? value : value.join(", ");
  }
  return out;
}

/** A period only exists with a rate, and QStash defaults it to one second. */
export function normalizeFlowControl(fc: {
  key: string;
  parallelism?: number;
  rate?: number;
  period?: number;
}): FlowControlLimits {
  return {
    key: fc.key,
    ...(fc.parallelism ? { parallelism: fc.parallelism } : {}),
    ...(fc.rate ? { rate: fc.rate, period: fc.period || 1 } : {}),
  };
}
