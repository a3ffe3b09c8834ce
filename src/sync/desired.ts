import { CronExpressionParser } from "cron-parser";
import type { Config, EnvSource } from "../config.js";
import { failIn, formatIssues } from "../errors.js";
import { isTimeZone } from "../job/cron.js";
import type { AnyJob, JobSchedule } from "../job/types.js";
import { type AnyJobstash, internals } from "../jobstash.js";
import { buildRequest } from "../message.js";
import { type FlowControlLimits, normalizeFlowControl } from "../protocol.js";
import { SyncValidationError } from "./errors.js";
import { defaultEnv, envNameProblems, ownerLabel, scheduleId } from "./ownership.js";
import { FINGERPRINT_HEADER, fingerprint, lowerCaseHeaders, type ScheduleSpec } from "./spec.js";
import { baseUrlProblems } from "./url-policy.js";

/** The code's side of a sync: what QStash should hold, checked before anything is read or written. */

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

/**
 * What QStash should hold for this registry and environment. Checks everything that can be
 * checked before a write (environment name, base URL, crons, time zones, schedule inputs
 * against the schema) and throws one {@link SyncValidationError} listing every problem.
 *
 * @example
 * const desired = await desiredState(jobs, { env: "production" });
 */
export async function desiredState(
  jobs: AnyJobstash,
  options: DesiredStateOptions = {},
): Promise<DesiredState> {
  const bindings = options.bindings ?? process.env;
  const env = options.env ?? defaultEnv(bindings);
  const inner = internals(jobs);
  const config = inner.config(bindings);
  const baseUrl = checkTarget(env, config, options);
  const schedules = await desiredSchedules(jobs, env, config);
  return {
    app: jobs.app,
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

/** The base URL deliveries go to, once the environment and the URL pass sync's rules. */
function checkTarget(env: string, config: Config, options: DesiredStateOptions): string {
  const problems = envNameProblems(env);
  let baseUrl = "";
  try {
    baseUrl = config.baseUrl();
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (baseUrl) problems.push(...baseUrlProblems(baseUrl, env, options));
  if (problems.length) throw new SyncValidationError(problems);
  return baseUrl;
}

/** Every job's schedules as QStash should hold them, or every problem found among them. */
async function desiredSchedules(jobs: AnyJobstash, env: string, config: Config): Promise<DesiredSchedule[]> {
  const label = ownerLabel(jobs.app, env);
  const problems: string[] = [];
  const schedules: DesiredSchedule[] = [];
  for (const job of jobs.jobs.values()) {
    for (const schedule of job.schedules) {
      const spec = await scheduleSpec(job, schedule, label, config);
      if (typeof spec === "string") problems.push(spec);
      else schedules.push({ id: scheduleId(jobs.app, env, job.id, schedule.id), jobId: job.id, spec });
    }
  }
  if (problems.length) throw new SyncValidationError(problems);
  return schedules;
}

/**
 * One schedule as QStash should hold it: exactly what `trigger` would send for its input,
 * plus the ownership label and the fingerprint. A string is the problem that stops it.
 */
async function scheduleSpec(
  job: AnyJob,
  schedule: JobSchedule,
  label: string,
  config: Config,
): Promise<ScheduleSpec | string> {
  const where = `job "${job.id}" schedules["${schedule.id}"]`;
  try {
    CronExpressionParser.parse(schedule.cron, { tz: schedule.tz });
  } catch (error) {
    return `${where}: cron ${JSON.stringify(schedule.cron)} is invalid: ${(error as Error).message}`;
  }
  if (!isTimeZone(schedule.tz)) {
    return `${where}: tz ${JSON.stringify(schedule.tz)} is not an IANA time zone (e.g. "Europe/Paris")`;
  }
  // The definition could only check synchronous schemas; async ones are checked here.
  const result = await job.input["~standard"].validate(schedule.input);
  if (result.issues)
    return `${where}: input does not match the job's schema:\n${formatIssues(result.issues)}`;
  let request: ReturnType<typeof buildRequest>;
  try {
    request = buildRequest(job, schedule.input, result.value, {}, config, failIn(where));
  } catch (error) {
    return (error as Error).message;
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
  return spec;
}
