import { ConfigError, formatIssues } from "../errors.js";
import { toMilliseconds } from "../util/duration.js";
import { cronProblem, isTimeZone } from "./cron.js";
import type { AnyJob, FlowControl, Job, JobDefinition, JobOutput, JobSchedule, Schema } from "./types.js";

/** Ids travel in URLs, QStash labels and schedule ids, so they keep to characters all three accept. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const QUEUE = /^[A-Za-z0-9._-]+$/;

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
  const where = `defineJob(${JSON.stringify(definition?.id)})`;
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${where}: ${field} ${problem}`);
  };

  if (typeof definition?.id !== "string" || !ID.test(definition.id)) {
    fail("id", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  if (!isSchema(definition.input)) fail("input", "must be a schema (zod, valibot or any Standard Schema)");
  if (definition.output !== undefined && !isSchema(definition.output)) {
    fail("output", "must be a schema (zod, valibot or any Standard Schema)");
  }
  if (typeof definition.run !== "function") fail("run", "must be a function");
  checkDeliveryOptions(definition, fail);
  if (definition.flowControl !== undefined && typeof definition.flowControl !== "function") {
    checkFlowControl(definition.flowControl, fail);
  }

  const schedules = (definition.schedules ?? []).map((schedule, index): JobSchedule => {
    const field = `schedules[${index}]`;
    const problem = cronProblem(String(schedule?.cron ?? ""));
    if (problem)
      fail(`${field}.cron`, `${JSON.stringify(schedule?.cron)} is not a valid cron expression: ${problem}`);
    const tz = schedule.tz ?? "UTC";
    if (!isTimeZone(tz))
      fail(`${field}.tz`, `${JSON.stringify(tz)} is not an IANA time zone (e.g. "Europe/Paris")`);
    const id = schedule.id ?? String(index);
    if (!ID.test(id)) fail(`${field}.id`, "must be letters, digits, '.', '_' or '-'");
    checkScheduleInput(definition.input, schedule.input, `${field}.input`, fail);
    return { id, cron: schedule.cron.trim(), tz, input: schedule.input };
  });
  const seen = new Set<string>();
  for (const { id } of schedules) {
    if (seen.has(id)) fail("schedules", `has two schedules with id "${id}"; give each a distinct id`);
    seen.add(id);
  }

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
  return { retries: job.definition.retries ?? 3, label: job.definition.label ?? job.id };
}

function isSchema(value: unknown): value is Schema {
  const standard = (value as Schema | undefined)?.["~standard"];
  return typeof standard === "object" && standard !== null && typeof standard.validate === "function";
}

type Fail = (field: string, problem: string) => never;

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
  const { retries, retryDelay, timeout, delay, label, queue } = options;
  if (retries !== undefined && !(Number.isInteger(retries) && (retries as number) >= 0)) {
    fail("retries", "must be a whole number >= 0");
  }
  if (
    retryDelay !== undefined &&
    !(typeof retryDelay === "string"
      ? retryDelay.trim() !== ""
      : Number.isFinite(retryDelay) && (retryDelay as number) >= 0)
  ) {
    fail("retryDelay", 'must be milliseconds or a QStash expression such as "pow(2, retried) * 1000"');
  }
  for (const [field, value] of [
    ["timeout", timeout],
    ["delay", delay],
  ] as const) {
    if (value === undefined) continue;
    try {
      toMilliseconds(value as string);
    } catch (error) {
      fail(field, (error as Error).message);
    }
  }
  if (label !== undefined && (typeof label !== "string" || !ID.test(label))) {
    fail("label", "must be letters, digits, '.', '_' or '-'");
  }
  if (queue !== undefined && (typeof queue !== "string" || !QUEUE.test(queue))) {
    fail("queue", "must be letters, digits, '.', '_' or '-'");
  }
}

/** QStash needs a key and at least one limit; limits are positive integers. */
export function checkFlowControl(flowControl: FlowControl, fail: Fail): void {
  if (typeof flowControl?.key !== "string" || flowControl.key === "")
    fail("flowControl.key", "must be a non-empty string");
  const { parallelism, rate, period } = flowControl;
  if (parallelism === undefined && rate === undefined)
    fail("flowControl", "needs `parallelism`, `rate` or both");
  for (const [field, value] of [
    ["parallelism", parallelism],
    ["rate", rate],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      fail(`flowControl.${field}`, "must be a whole number > 0");
    }
  }
  if (period !== undefined) {
    try {
      if (toMilliseconds(period) < 1000) fail("flowControl.period", "must be at least 1s");
    } catch (error) {
      fail("flowControl.period", (error as Error).message);
    }
  }
}

/** Schedule inputs are constants, so a bad one is caught now rather than at every tick. */
function checkScheduleInput(schema: Schema, input: unknown, field: string, fail: Fail): void {
  const result = schema["~standard"].validate(input);
  // An async schema cannot be checked synchronously; `jobstash sync` checks it before any write.
  if (result instanceof Promise) {
    result.catch(() => undefined);
    return;
  }
  if (result.issues) fail(field, `does not match the job's input schema:\n${formatIssues(result.issues)}`);
}
