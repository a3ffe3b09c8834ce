import type { AnyJobstash, EnvSource } from "jobstash";
import { type DesiredFlowControl, type DesiredSchedule, desiredState } from "jobstash/sync";
import type { Engine } from "../dev-server/engine/engine.js";
import type { Message, UserState } from "../dev-server/engine/model.js";
import { cronWithZone, DEFAULT_PERIOD_SECONDS, messageHeaders } from "../protocol.js";

/** The environment name the harness syncs as: part of every schedule id (`<app>.test.<job>.<id>`). */
const TEST_ENV = "test";

/**
 * Creates what `jobstash sync` would: every job's schedules (ids, crons in their zones and
 * headers from sync's own desired state), the declared queues with their settings, and returns
 * the flow-control keys whose limits sync pins.
 */
export async function installDeclared(
  engine: Engine,
  user: UserState,
  jobs: AnyJobstash,
  bindings: EnvSource,
): Promise<PinFlowControl> {
  const desired = await desiredState(jobs, { env: TEST_ENV, bindings });
  for (const q of desired.queues) engine.queues.upsert(user, q.name, q.parallelism, q.paused);
  for (const schedule of desired.schedules) {
    const { destination, body } = schedule.spec;
    engine.schedules.create(
      user,
      destination,
      scheduleHeaders(schedule),
      body === undefined ? undefined : Buffer.from(body),
      "127.0.0.1",
    );
  }
  return pinner(engine, user, desired.flowControls);
}

/** The headers the SDK's `schedules.create` sends for the schedule sync applies. */
function scheduleHeaders({ id, spec }: DesiredSchedule): Map<string, string> {
  const headers = messageHeaders({
    url: spec.destination,
    body: undefined,
    headers: spec.headers,
    retries: spec.retries,
    retryDelay: spec.retryDelay,
    timeout: spec.timeout,
    delay: spec.delay,
    callback: spec.callback,
    failureCallback: spec.failureCallback,
    flowControl: spec.flowControl,
    label: spec.labels.join(","),
  });
  headers["upstash-cron"] = cronWithZone(spec);
  headers["upstash-schedule-id"] = id;
  if (spec.queue !== undefined) headers["upstash-queue-name"] = spec.queue;
  return new Map(Object.entries(headers));
}

/** Pins a declared key's limits when a message first uses it. */
export type PinFlowControl = (msg: Message) => void;

/**
 * QStash learns a flow-control key from the first message that uses it, and sync pins declared
 * limits on keys QStash knows. The harness pins as that message is accepted, before its
 * first attempt, so the declared limits hold from the start.
 */
function pinner(engine: Engine, user: UserState, declared: readonly DesiredFlowControl[]): PinFlowControl {
  const waiting = new Map(declared.map((fc) => [fc.key, fc]));
  return (msg) => {
    const key = msg.flow?.key;
    const fc = key === undefined ? undefined : waiting.get(key);
    if (!fc || key === undefined) return;
    waiting.delete(key);
    engine.flow.pin(user, key, {
      ...(fc.parallelism !== undefined && { parallelism: fc.parallelism }),
      ...(fc.rate !== undefined && { rate: fc.rate, period: fc.period ?? DEFAULT_PERIOD_SECONDS }),
    });
  };
}
