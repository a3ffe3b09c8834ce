import type { Client } from "@upstash/qstash";
import { DEFAULT_RETRIES, type FlowControlLimits, normalizeFlowControl, splitCronZone } from "../protocol.js";
import { statusOf } from "../qstash.js";
import { isOwnershipRecord, parseOwnership } from "./ownership.js";
import { lowerCaseHeaders, type ScheduleSpec } from "./spec.js";

/** A schedule as QStash holds it. */
export interface RemoteSchedule {
  id: string;
  spec: ScheduleSpec;
  /** Fields this server does not report; the planner compares them through the fingerprint. */
  unreported?: readonly (keyof ScheduleSpec)[];
}

/** A queue as QStash holds it. */
export interface RemoteQueue {
  name: string;
  parallelism: number;
  paused: boolean;
  /** Messages not yet delivered. */
  lag: number;
}

/** What QStash currently holds, across every app and environment of the account. */
export interface RemoteState {
  schedules: readonly RemoteSchedule[];
  queues: readonly RemoteQueue[];
  /** Flow-control keys with their pinned limits (only those are sync's business). */
  flowControls: readonly FlowControlLimits[];
  /**
   * Every flow-control key QStash knows, pinned or not. QStash learns a key from the first
   * message that uses it and answers 404 for it before that, so the plan waits for such a key
   * instead of pinning it. Absent: every key is taken as known.
   */
  knownFlowControlKeys?: readonly string[];
}

/** The QStash calls sync makes, narrowed from the official `Client` so tests can count or fake them. */
export type SyncClient = Pick<Client, "schedules" | "queue" | "flowControl" | "http">;

/** Options of {@link loadRemote}. */
export interface LoadRemoteOptions {
  /**
   * Flow-control keys to look up one by one when the server has no list endpoint
   * (`GET /v2/flowControl`). Pass the keys the code declares.
   * @default []
   */
  flowControlKeys?: readonly string[];
  /** Wraps each read, e.g. to retry it. @default calls it once */
  read?: <T>(call: () => Promise<T>) => Promise<T>;
}

interface RawSchedule {
  scheduleId: string;
  cron: string;
  destination: string;
  method?: string;
  header?: Record<string, string[]>;
  body?: string;
  bodyBase64?: string;
  retries?: number;
  retryDelayExpression?: string;
  timeout?: number;
  delay?: number;
  callback?: string;
  failureCallback?: string;
  queueName?: string;
  flowControlKey?: string;
  parallelism?: number;
  rate?: number;
  period?: number;
  label?: string;
  labels?: string[];
  isPaused?: boolean;
}

interface RawFlowControl {
  flowControlKey: string;
  parallelismMax?: number;
  rateMax?: number;
  ratePeriod?: number;
  isPinnedParallelism?: boolean;
  isPinnedRate?: boolean;
}

/** Turn QStash's schedule object into the shape the planner compares. */
function remoteSchedule(raw: RawSchedule): RemoteSchedule {
  const body =
    raw.body ?? (raw.bodyBase64 ? Buffer.from(raw.bodyBase64, "base64").toString("utf8") : undefined);
  return {
    id: raw.scheduleId,
    ...(!("timeout" in raw) && { unreported: ["timeout"] as const }),
    spec: {
      destination: raw.destination,
      ...splitCronZone(raw.cron),
      method: raw.method ?? "POST",
      body: body === "" ? undefined : body,
      headers: lowerCaseHeaders(raw.header ?? {}),
      retries: raw.retries ?? DEFAULT_RETRIES,
      retryDelay: raw.retryDelayExpression || undefined,
      timeout: raw.timeout || undefined,
      delay: raw.delay || undefined,
      callback: raw.callback || undefined,
      failureCallback: raw.failureCallback || undefined,
      queue: raw.queueName || undefined,
      flowControl: raw.flowControlKey
        ? normalizeFlowControl({
            key: raw.flowControlKey,
            parallelism: raw.parallelism,
            rate: raw.rate,
            period: raw.period,
          })
        : undefined,
      labels: raw.labels ?? (raw.label ? [raw.label] : []),
      paused: raw.isPaused ?? false,
    },
  };
}

/** A key's pinned limits; the ones QStash merely learnt from messages are left out. */
function remoteFlowControl(raw: RawFlowControl): FlowControlLimits {
  return normalizeFlowControl({
    key: raw.flowControlKey,
    parallelism: raw.isPinnedParallelism ? raw.parallelismMax : undefined,
    rate: raw.isPinnedRate ? raw.rateMax : undefined,
    period: raw.ratePeriod,
  });
}

/**
 * Read what QStash holds: one list call per resource kind. Flow-control keys come from
 * `GET /v2/flowControl` (not wrapped by the SDK yet, so it goes through the client's own
 * requester); a server without it is asked key by key for `flowControlKeys`.
 *
 * @example
 * const remote = await loadRemote(new Client({ token }), { flowControlKeys: ["mail-api"] });
 */
export async function loadRemote(client: SyncClient, options: LoadRemoteOptions = {}): Promise<RemoteState> {
  const read = options.read ?? (<T>(call: () => Promise<T>) => call());
  const listed = read(() => client.schedules.list()) as Promise<unknown> as Promise<RawSchedule[]>;
  // Without a list endpoint, keys are looked up by name: the declared ones and every key an
  // ownership record lists, so a key removed from the code can still be found and unpinned.
  const recorded = async () =>
    (await listed)
      .filter((s) => isOwnershipRecord(s.scheduleId))
      .flatMap((s) => parseOwnership(remoteSchedule(s).spec.body).flowControls);
  const [schedules, queues, flowControls] = await Promise.all([
    listed,
    read(() => client.queue().list()),
    listFlowControls(client, options.flowControlKeys ?? [], read, recorded),
  ]);
  return {
    schedules: schedules.map(remoteSchedule),
    queues: queues.map((q) => ({
      name: q.name,
      parallelism: q.parallelism ?? 1,
      paused: q.paused ?? false,
      lag: q.lag ?? 0,
    })),
    flowControls: flowControls.map(remoteFlowControl).filter((fc) => fc.parallelism || fc.rate),
    knownFlowControlKeys: flowControls.map((fc) => fc.flowControlKey),
  };
}

async function listFlowControls(
  client: SyncClient,
  keys: readonly string[],
  read: NonNullable<LoadRemoteOptions["read"]>,
  recorded: () => Promise<string[]>,
): Promise<RawFlowControl[]> {
  try {
    const list = await read(() =>
      client.http.request<RawFlowControl[]>({ path: ["v2", "flowControl"], method: "GET" }),
    );
    if (Array.isArray(list)) return list;
  } catch (error) {
    if (statusOf(error) !== 404 && statusOf(error) !== 405) throw error;
  }
  const found = await Promise.all(
    [...new Set([...keys, ...(await recorded())])].map(async (key) => {
      try {
        return (await read(() => client.flowControl.get(key))) as RawFlowControl;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    }),
  );
  return found.filter((fc): fc is RawFlowControl => fc !== undefined);
}
