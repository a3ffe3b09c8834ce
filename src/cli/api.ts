import { callQStash, type QStashTarget } from "../qstash.js";

/**
 * The QStash REST calls the CLI makes besides publishing, each built exactly as the official
 * `@upstash/qstash` Client builds it (path, query keys and their order, method), so the CLI
 * works wherever the Client does: test/cli/api-parity.test.ts sends each through both and
 * compares the requests. They go through the publisher's own sender (`callQStash`): one
 * deadline per call, the SDK's retries after a network error, and errors that name the URL.
 */

/** A DLQ entry as QStash returns it (the fields the CLI reads). */
export interface DlqMessage {
  dlqId: string;
  messageId: string;
  url: string;
  method?: string;
  header?: Record<string, string[]>;
  body?: string;
  bodyBase64?: string;
  maxRetries?: number;
  createdAt?: number;
  queueName?: string;
  scheduleId?: string;
  label?: string;
  labels?: string[];
  responseStatus?: number;
  responseHeader?: Record<string, string[]>;
  responseBody?: string;
  responseBodyBase64?: string;
  /** The dev server's reason when there was no response (a connection error). */
  error?: string;
}

/** An entry of QStash's log (the fields the CLI reads). */
export interface LogEntry {
  time: number;
  messageId: string;
  state: string;
  url: string;
  error?: string;
  nextDeliveryTime?: number;
  scheduleId?: string;
  queueName?: string;
  maxRetries?: number;
  responseStatus?: number;
  /** Base64. */
  responseBody?: string;
  label?: string;
}

/** A schedule as QStash returns it (the fields the CLI reads). */
export interface ScheduleInfo {
  scheduleId: string;
  cron: string;
  destination: string;
  isPaused?: boolean;
  createdAt?: number;
  label?: string;
  labels?: string[];
  lastScheduleTime?: number;
  nextScheduleTime?: number;
  lastScheduleStates?: Record<string, string>;
}

/** Filters of the DLQ and log listings, as the Client's `filter` option (values OR'ed per key). */
export type ListFilter = Record<string, string | number | readonly string[] | undefined>;

/** `client.dlq.listMessages({ count, filter, cursor })`. */
export async function listDlq(
  qstash: QStashTarget,
  options: { count?: number; filter?: ListFilter; cursor?: string },
): Promise<{ messages: DlqMessage[]; cursor?: string }> {
  return (await callQStash(qstash, {
    method: "GET",
    path: "v2/dlq",
    query: { count: options.count, ...options.filter, cursor: options.cursor },
  })) as { messages: DlqMessage[]; cursor?: string };
}

/** `client.dlq.listMessages({ dlqIds })`: the entries of these ids that exist. */
export async function getDlq(qstash: QStashTarget, dlqIds: readonly string[]): Promise<DlqMessage[]> {
  const reply = (await callQStash(qstash, {
    method: "GET",
    path: "v2/dlq",
    query: { count: undefined, dlqIds },
  })) as { messages: DlqMessage[] };
  return reply.messages;
}

/** `client.dlq.retry(dlqIds)`: each entry republished as a new message; resolves to their ids. */
export async function retryDlq(qstash: QStashTarget, dlqIds: readonly string[]): Promise<string[]> {
  const reply = (await callQStash(qstash, {
    method: "POST",
    path: "v2/dlq/retry",
    query: { dlqIds, cursor: undefined },
  })) as { responses?: { messageId: string }[] };
  return (reply.responses ?? []).map((r) => r.messageId);
}

/** `client.dlq.delete(dlqIds)`: resolves to how many were deleted. */
export async function deleteDlq(qstash: QStashTarget, dlqIds: readonly string[]): Promise<number> {
  const reply = (await callQStash(qstash, {
    method: "DELETE",
    path: "v2/dlq",
    query: { dlqIds, cursor: undefined },
  })) as { deleted?: number };
  return reply.deleted ?? 0;
}

/** `client.logs({ count, filter, cursor })`, newest first. */
export async function listLogs(
  qstash: QStashTarget,
  options: { count?: number; filter?: ListFilter; cursor?: string },
): Promise<{ events: LogEntry[]; cursor?: string }> {
  return (await callQStash(qstash, {
    method: "GET",
    path: "v2/events",
    query: { count: options.count, ...options.filter, cursor: options.cursor },
  })) as { events: LogEntry[]; cursor?: string };
}

/** `client.schedules.list()`. */
export async function listSchedules(qstash: QStashTarget): Promise<ScheduleInfo[]> {
  return (await callQStash(qstash, { method: "GET", path: "v2/schedules" })) as ScheduleInfo[];
}

/**
 * The account's signing keys: `GET /v2/keys`, which the Client calls for its dev-server
 * probe (it has no method for it). A cheap call that needs a valid token.
 */
export async function signingKeys(qstash: QStashTarget): Promise<{ current: string; next: string }> {
  return (await callQStash(qstash, { method: "GET", path: "v2/keys" })) as { current: string; next: string };
}
