import { ConfigError, failIn } from "../errors.js";
import {
  DEFAULT_PERIOD_SECONDS,
  type FlowControlLimits,
  normalizeFlowControl,
  QSTASH_NAME,
} from "../protocol.js";
import { toSeconds } from "../util/duration.js";
import { checkFlowControl } from "./define.js";
import type { FlowControl } from "./types.js";

/** What `defineQueue` takes. */
export interface QueueDefinition {
  /** The QStash queue name jobs refer to with `queue: "<name>"`. Letters, digits, `.`, `_` and `-`. */
  name: string;
  /** How many messages of the queue are delivered at once. @default 1 */
  parallelism?: number;
  /** Keep the queue paused: it accepts messages but delivers none. @default false */
  paused?: boolean;
}

/** A declared queue. Pass it to `createJobstash({ queues })`. */
export interface QueueDeclaration {
  readonly kind: "queue";
  readonly name: string;
  readonly parallelism: number;
  readonly paused: boolean;
}

/** What `defineFlowControl` takes: a named key and the limits `jobstash sync` pins on it. */
export type FlowControlDefinition = FlowControl;

/** A declared flow-control key. Pass it to `createJobstash({ flowControls })`. */
export interface FlowControlDeclaration extends Readonly<FlowControl> {
  readonly kind: "flowControl";
}

/**
 * Declare a QStash queue and its parallelism; `jobstash sync` creates or updates it. A job's
 * `queue: "name"` with no declaration implies a queue with parallelism 1.
 *
 * @example
 * export const emails = defineQueue({ name: "emails", parallelism: 5 });
 * createJobstash({ app: "acme", jobs: [sendWelcome], queues: [emails] });
 */
export function defineQueue(definition: QueueDefinition): QueueDeclaration {
  const where = `defineQueue(${JSON.stringify(definition?.name)})`;
  if (typeof definition?.name !== "string" || !QSTASH_NAME.test(definition.name)) {
    throw new ConfigError(`${where}: name must be letters, digits, '.', '_' or '-'`);
  }
  const { parallelism = 1, paused = false } = definition;
  if (!(Number.isInteger(parallelism) && parallelism > 0)) {
    throw new ConfigError(`${where}: parallelism must be a whole number > 0`);
  }
  if (typeof paused !== "boolean") throw new ConfigError(`${where}: paused must be true or false`);
  return Object.freeze({ kind: "queue", name: definition.name, parallelism, paused });
}

/**
 * Declare a flow-control key with fixed limits; `jobstash sync` pins them in QStash so they
 * hold whatever a message carries, and unpins them when the declaration is removed.
 *
 * @example
 * export const mailApi = defineFlowControl({ key: "mail-api", rate: 100, period: "1m" });
 * createJobstash({ app: "acme", jobs: [sendWelcome], flowControls: [mailApi] });
 */
export function defineFlowControl(definition: FlowControlDefinition): FlowControlDeclaration {
  checkFlowControl(definition, (field, problem) => {
    throw new ConfigError(`defineFlowControl(${JSON.stringify(definition?.key)}): ${field} ${problem}`);
  });
  const { key, parallelism, rate, period } = definition;
  return Object.freeze({
    kind: "flowControl",
    key,
    ...(parallelism !== undefined && { parallelism }),
    ...(rate !== undefined && { rate }),
    ...(period !== undefined && { period }),
  });
}

/** The queues and static flow-control keys an app declares, with who declared each. */
export interface DeclaredResources {
  queues: readonly (QueueDeclaration & { declaredBy: string })[];
  flowControls: readonly (FlowControlLimits & { declaredBy: readonly string[] })[];
}

/** The limits checked by defineJob or defineFlowControl, in seconds as QStash stores them. */
function limitsOf({ key, parallelism, rate, period }: FlowControl): FlowControlLimits {
  return normalizeFlowControl({
    key,
    parallelism,
    rate,
    period: period === undefined ? undefined : toSeconds(period),
  });
}

/** `parallelism 2, rate 5/60s`: a key's limits in words, as errors and sync's plan show them. */
export function describeLimits({ parallelism, rate, period }: Omit<FlowControlLimits, "key">): string {
  return [
    parallelism !== undefined && `parallelism ${parallelism}`,
    rate !== undefined && `rate ${rate}/${period ?? DEFAULT_PERIOD_SECONDS}s`,
  ]
    .filter(Boolean)
    .join(", ");
}

/**
 * Collect the declared queues and static flow-control keys, adding the queues jobs name
 * without declaring (parallelism 1, what QStash creates on the first enqueue). One key has
 * one config: two declarations of a key with different limits throw, naming both.
 */
export function declaredResources(
  jobs: Iterable<{ id: string; definition: { queue?: string; flowControl?: unknown } }>,
  queues: readonly QueueDeclaration[] = [],
  flowControls: readonly FlowControlDeclaration[] = [],
): DeclaredResources {
  const fail = failIn("createJobstash");
  const queueMap = new Map<string, QueueDeclaration & { declaredBy: string }>();
  const keyMap = new Map<string, FlowControlLimits & { declaredBy: string[] }>();
  const addFlowControl = (flowControl: FlowControl, by: string) => {
    const limits = limitsOf(flowControl);
    const seen = keyMap.get(limits.key);
    if (!seen) keyMap.set(limits.key, { ...limits, declaredBy: [by] });
    else if (describeLimits(seen) === describeLimits(limits)) seen.declaredBy.push(by);
    else {
      throw new ConfigError(
        `flow-control key "${limits.key}" has different limits in ${seen.declaredBy[0]} (${describeLimits(seen)}) and ${by} (${describeLimits(limits)}); a key has one config: make them equal or use two keys`,
      );
    }
  };

  for (const [index, queue] of queues.entries()) {
    if (queue?.kind !== "queue") fail(`queues[${index}]`, "must come from defineQueue()");
    if (queueMap.has(queue.name)) fail(`queue "${queue.name}"`, "is declared twice; declare it once");
    queueMap.set(queue.name, { ...queue, declaredBy: `defineQueue("${queue.name}")` });
  }
  for (const [index, flowControl] of flowControls.entries()) {
    if (flowControl?.kind !== "flowControl")
      fail(`flowControls[${index}]`, "must come from defineFlowControl()");
    addFlowControl(flowControl, `defineFlowControl("${flowControl.key}")`);
  }
  for (const job of jobs) {
    const { queue, flowControl } = job.definition;
    const by = `job "${job.id}"`;
    if (queue !== undefined && !queueMap.has(queue)) {
      queueMap.set(queue, { kind: "queue", name: queue, parallelism: 1, paused: false, declaredBy: by });
    }
    // A function computes a key per message: nothing fixed to pin.
    if (flowControl && typeof flowControl === "object") addFlowControl(flowControl as FlowControl, by);
  }
  return { queues: [...queueMap.values()], flowControls: [...keyMap.values()] };
}
