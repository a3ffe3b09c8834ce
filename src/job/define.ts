import { type Fail, failIn, formatIssues } from "../errors.js";
import { DEFAULT_RETRIES, QSTASH_NAME } from "../protocol.js";
import { toMilliseconds } from "../util/duration.js";
import { cronProblem, cronStepProblem, isTimeZone } from "./cron.js";
import type { AnyJob, FlowControl, Job, JobDefinition, JobOutput, JobSchedule, Schema } from "./types.js";

/** Ids travel in URLs, QStash labels and schedule ids, so they keep to characters all three accept. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** What ID and QSTASH_NAME accept, for messages. */
export const NAME_RULE = "must be letters, digits, '.', '_' or '-'";
const SCHEMA_RULE = "must be a schema (zod, valibot or any Standard Schema)";

/**
 * Declare a job: its input schema, the code that runs it, and how QStash should deliver it.
 * Everything is checked here, so a bad cron, time zone or option fails at startup with a
 * message naming the job and the field, not at the first delivery.
 *
 * @example
 * export const sendWelcome = defineJob({
 *   id: "send-welcome",
 *   input: z.object({ email: z.string().email() }),
 *   retries: 5,
 *   async run(input, ctx) {
 *     await mailer.send(input.email, { signal: ctx.signal });
 *     return { sent: true };
 *   },
 * });
 */
export function defineJob<
  const TId extends string,
  TInput extends Schema,
  TReturn,
  TOutput extends Schema | undefined = undefined,
>(definition: JobDefinition<TId, TInput, TReturn, TOutput>): Job<TId, TInput, JobOutput<TReturn, TOutput>> {
  const fail = failIn(`defineJob(${JSON.stringify(definition?.id)})`);

  if (!matches(definition?.id, ID))
    fail("id", `${NAME_RULE}, 1-128 of them, starting with a letter or digit`);
  if (!isSchema(definition.input)) fail("input", SCHEMA_RULE);
  if (definition.output !== undefined && !isSchema(definition.output)) fail("output", SCHEMA_RULE);
  if (typeof definition.run !== "function") fail("run", "must be a function");
  checkDeliveryOptions(definition, fail);
  if (definition.flowControl !== undefined && typeof definition.flowControl !== "function") {
    checkFlowControl(definition.flowControl, fail);
  }

  const ids = new Set<string>();
  const schedules = (definition.schedules ?? []).map((schedule, index): JobSchedule => {
    const field = `schedules[${index}]`;
    const cron = String(schedule?.cron ?? "");
    const problem = cronProblem(cron);
    if (problem) {
      fail(`${field}.cron`, `${JSON.stringify(schedule?.cron)} is not a valid cron expression: ${problem}`);
    }
    const step = cronStepProblem(cron);
    if (step) fail(`${field}.cron`, `${JSON.stringify(schedule.cron)}: ${step}`);
    const tz = schedule.tz ?? "UTC";
    if (!isTimeZone(tz))
      fail(`${field}.tz`, `${JSON.stringify(tz)} is not an IANA time zone (e.g. "Europe/Paris")`);
    const id = schedule.id ?? String(index);
    if (!ID.test(id)) fail(`${field}.id`, NAME_RULE);
    if (ids.has(id)) fail("schedules", `has two schedules with id "${id}"; give each a distinct id`);
    ids.add(id);
    // Schedule inputs are constants, so a bad one is caught now rather than at every tick. An
    // async schema cannot be checked synchronously; `jobstash sync` checks it before any write.
    const result = definition.input["~standard"].validate(schedule.input);
    if (result instanceof Promise) result.catch(() => undefined);
    else if (result.issues) {
      fail(`${field}.input`, `does not match the job's input schema:\n${formatIssues(result.issues)}`);
    }
    return { id, cron: schedule.cron.trim(), tz, input: schedule.input };
  });

  return Object.freeze({
    id: definition.id,
    input: definition.input,
    output: definition.output,
    schedules: Object.freeze(schedules),
    definition: definition as unknown as Job<TId, TInput>["definition"],
  });
}

/**
 * The retry budget and label a job's messages get unless a trigger says otherwise. QStash's
 * default is 3 retries; jobstash sends the budget explicitly so the receiver can report it.
 */
export function jobDefaults(job: AnyJob): { retries: number; label: string } {
  return { retries: job.definition.retries ?? DEFAULT_RETRIES, label: job.definition.label ?? job.id };
}

function isSchema(value: unknown): value is Schema {
  const standard = (value as Schema | undefined)?.["~standard"];
  return typeof standard === "object" && standard !== null && typeof standard.validate === "function";
}

function matches(value: unknown, pattern: RegExp): boolean {
  return typeof value === "string" && pattern.test(value);
}

function isWholeNumber(value: unknown, min: number): boolean {
  return Number.isInteger(value) && (value as number) >= min;
}

/** Milliseconds of a duration option; a malformed one fails with toMilliseconds' own reason. */
function checkDuration(value: unknown, field: string, fail: Fail): number | undefined {
  try {
    return value === undefined ? undefined : toMilliseconds(value as string);
  } catch (error) {
    return fail(field, (error as Error).message);
  }
}

/** Shared by definitions and per-call trigger options. */
export function checkDeliveryOptions(
  options: {
    retries?: unknown;
    retryDelay?: unknown;
    timeout?: unknown;
    delay?: unknown;
    label?: unknown;
    queue?: unknown;
  },
  fail: Fail,
): void {
  const { retries, retryDelay, label, queue } = options;
  if (retries !== undefined && !isWholeNumber(retries, 0)) fail("retries", "must be a whole number >= 0");
  if (
    retryDelay !== undefined &&
    !(typeof retryDelay === "string"
      ? retryDelay.trim()
      : Number.isFinite(retryDelay) && (retryDelay as number) >= 0)
  ) {
    fail("retryDelay", 'must be milliseconds or a QStash expression such as "pow(2, retried) * 1000"');
  }
  checkDuration(options.timeout, "timeout", fail);
  checkDuration(options.delay, "delay", fail);
  if (label !== undefined && !matches(label, ID)) fail("label", NAME_RULE);
  if (queue !== undefined && !matches(queue, QSTASH_NAME)) fail("queue", NAME_RULE);
}

/** QStash needs a key and at least one limit; limits are positive integers. */
export function checkFlowControl(flowControl: FlowControl, fail: Fail): void {
  const { key, parallelism, rate, period } = flowControl ?? {};
  if (!key || typeof key !== "string") fail("flowControl.key", "must be a non-empty string");
  if (parallelism === undefined && rate === undefined)
    fail("flowControl", "needs `parallelism`, `rate` or both");
  if (parallelism !== undefined && !isWholeNumber(parallelism, 1)) {
    fail("flowControl.parallelism", "must be a whole number > 0");
  }
  if (rate !== undefined && !isWholeNumber(rate, 1)) fail("flowControl.rate", "must be a whole number > 0");
  const periodMs = checkDuration(period, "flowControl.period", fail);
  if (periodMs !== undefined && periodMs < 1000) fail("flowControl.period", "must be at least 1s");
}
