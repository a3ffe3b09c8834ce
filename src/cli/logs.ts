import { responseReason } from "../dev-server/engine/reason.js";
import { DEFAULT_RETRIES } from "../protocol.js";
import { base64ToBytes } from "../util/base64.js";
import { type ListFilter, type LogEntry, listLogs } from "./api.js";
import { InputError } from "./errors.js";
import { formatEvent, type LoggedEvent } from "./format-event.js";
import { OPS_OPTIONS, type Ops, openOps, opsHelp, sinceTime, wholeNumber } from "./ops.js";
import { printJson } from "./output.js";
import { didYouMean, parseCommand } from "./shared.js";

const HELP = `Usage: jobstash logs [options]

Prints the lifecycle of messages (created, delivered, failed, retried, ...) as QStash logs it,
one line per event in the format of \`jobstash dev\`, oldest first.

Options:
      --job <id>           Only this job's messages (and its callbacks)
      --message <id>       Only this message
      --state <state>      Only events in this state: ${"CREATED, ACTIVE, RETRY, ERROR, IN_PROGRESS,\n                           DELIVERED, FAILED, CANCEL_REQUESTED or CANCELLED"}
      --since <when>       Only events since a duration ago (30s, 10m, 2h, 1d) or an ISO time
  -n, --limit <n>          At most this many events, the latest (default: 100; with --since: all)
  -f, --follow             Keep printing events as they happen (Ctrl-C stops)
${opsHelp()}

Examples:
  jobstash logs --job send-welcome --since 1h
  jobstash logs --message msg_26hZCxZCuWyyTWPmSVBrNCtiJCJF
  jobstash logs --state FAILED --follow
  jobstash logs --json --since 10m | jq .reason

With --json, each event is one JSON object per line (see the README for its fields).
Exit codes: 0 done (or stopped with Ctrl-C), 1 QStash refused or could not be reached, 2 bad input.`;

const STATES = [
  "CREATED",
  "ACTIVE",
  "RETRY",
  "ERROR",
  "IN_PROGRESS",
  "DELIVERED",
  "FAILED",
  "CANCEL_REQUESTED",
  "CANCELLED",
] as const;

/** States after which a message has nothing more to log. */
export const FINAL_STATES = new Set(["DELIVERED", "FAILED", "CANCELLED", "CANCELED"]);

/** Largest page QStash serves. */
const PAGE = 1000;

/** What earlier entries of the same message tell about an entry. */
export interface Known {
  /** Retries so far; undefined when the message's CREATED was not seen. */
  retried?: number;
  /** A RETRY's attempt: QStash logs its status and response on the ERROR just before. */
  status?: number;
  responseBody?: string;
}

/**
 * What QStash's log leaves for a reader to work out, from the entries seen so far (fed in
 * order): how often each message had been retried, counted from its attempts (ACTIVE) since
 * its CREATED, and the failed attempt a RETRY follows. `jobstash dev` knows both.
 */
export class MessageHistory {
  readonly #attempts = new Map<string, number>();
  readonly #lastError = new Map<string, LogEntry>();

  see(entry: LogEntry): Known {
    const id = entry.messageId;
    if (entry.state === "CREATED") this.#attempts.set(id, 0);
    if (entry.state === "ACTIVE" && this.#attempts.has(id))
      this.#attempts.set(id, this.#attempts.get(id)! + 1);
    if (entry.state === "ERROR") this.#lastError.set(id, entry);
    const attempts = this.#attempts.get(id);
    const error = entry.state === "RETRY" ? this.#lastError.get(id) : undefined;
    if (FINAL_STATES.has(entry.state)) {
      this.#attempts.delete(id);
      this.#lastError.delete(id);
    }
    return {
      retried: attempts === undefined ? undefined : Math.max(0, attempts - 1),
      ...(error && { status: error.responseStatus, responseBody: error.responseBody }),
    };
  }
}

/** A log entry as `formatEvent` takes it. */
export function toEvent(entry: LogEntry, ops: Pick<Ops, "jobOf">, known: Known = {}): LoggedEvent {
  const { marker } = ops.jobOf(entry.url);
  const body = decoded(entry.responseBody ?? known.responseBody);
  return {
    time: entry.time,
    messageId: entry.messageId,
    state: entry.state as LoggedEvent["state"],
    url: entry.url,
    retried: known.retried,
    maxRetries: entry.maxRetries ?? DEFAULT_RETRIES,
    status: entry.responseStatus ?? known.status,
    error: entry.error,
    nextDeliveryTime: entry.nextDeliveryTime,
    queueName: entry.queueName,
    scheduleId: entry.scheduleId,
    callbackOf: marker === "success" ? "callback" : marker === "failure" ? "failureCallback" : undefined,
    reason: entry.state === "DELIVERED" ? undefined : responseReason(body),
  };
}

function decoded(base64: string | undefined): Uint8Array | undefined {
  if (!base64) return undefined;
  try {
    return base64ToBytes(base64);
  } catch {
    return undefined;
  }
}

/** The `--json` form of an event: stable field names, times as ISO 8601. */
export function eventJson(entry: LogEntry, ops: Pick<Ops, "jobOf">, known: Known = {}) {
  const e = toEvent(entry, ops, known);
  const { jobId, marker } = ops.jobOf(entry.url);
  return {
    time: new Date(e.time).toISOString(),
    messageId: e.messageId,
    state: e.state,
    jobId: jobId ?? null,
    ...(marker && { callback: marker }),
    url: e.url,
    ...(e.status !== undefined && { status: e.status }),
    ...(e.retried !== undefined && { retried: e.retried }),
    maxRetries: e.maxRetries,
    ...(e.nextDeliveryTime !== undefined && { nextDeliveryTime: new Date(e.nextDeliveryTime).toISOString() }),
    ...(e.error !== undefined && { error: e.error }),
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.queueName && { queueName: e.queueName }),
    ...(e.scheduleId && { scheduleId: e.scheduleId }),
  };
}

/** Identity of an entry, to print each once across polls. */
const keyOf = (e: LogEntry) => `${e.messageId} ${e.time} ${e.state}`;

/**
 * Log entries matching `filter`, oldest first: the latest `limit` (all of them when
 * undefined), paging through QStash's cursor.
 */
export async function fetchLogs(
  ops: Ops,
  filter: ListFilter,
  limit: number | undefined,
): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  let cursor: string | undefined;
  do {
    const count = Math.min(PAGE, limit === undefined ? PAGE : limit - out.length);
    const page = await ops.api((q) => listLogs(q, { count, filter, cursor }));
    out.push(...page.events);
    cursor = page.cursor;
  } while (cursor && (limit === undefined || out.length < limit));
  return out.reverse();
}

/**
 * Poll for entries newer than the ones already seen (`after`: the newest seen), oldest first,
 * each handed to `onEntry` once, until `stop` says so. Polls four times a second against a
 * server on this machine (`jobstash dev`), every two seconds against QStash.
 */
export async function followLogs(
  ops: Ops,
  filter: ListFilter,
  options: { after?: LogEntry; onEntry: (e: LogEntry) => void; stop?: () => boolean; signal?: AbortSignal },
): Promise<void> {
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(ops.qstash().url);
  const pause = local ? 250 : 2000;
  let last = options.after?.time;
  // Entries at the newest time seen may come again (fromDate is inclusive).
  let boundary = new Set(options.after ? [keyOf(options.after)] : []);
  const stopped = () => Boolean(options.stop?.() || options.signal?.aborted);
  while (!stopped()) {
    const fresh = await fetchLogs(
      ops,
      last === undefined ? filter : { ...filter, fromDate: last },
      undefined,
    );
    for (const entry of fresh) {
      const key = keyOf(entry);
      if (boundary.has(key)) continue;
      if (last === undefined || entry.time > last) {
        last = entry.time;
        boundary = new Set();
      }
      boundary.add(key);
      options.onEntry(entry);
      if (stopped()) return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pause);
      function done() {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", done);
        resolve();
      }
      options.signal?.addEventListener("abort", done);
    });
  }
}

/** `--state`, checked: QStash's state names, in any case. */
function stateOption(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const upper = text.toUpperCase().replace(/-/g, "_");
  const state = upper === "CANCELED" ? "CANCELLED" : upper;
  if ((STATES as readonly string[]).includes(state)) return state;
  const near = didYouMean(upper, STATES);
  throw new InputError(
    `unknown --state ${JSON.stringify(text)}${near ? `; did you mean ${near}?` : ""} (one of ${STATES.join(", ")})`,
  );
}

/** `jobstash logs`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values } = parseCommand("logs", argv, {
    ...OPS_OPTIONS,
    job: { type: "string" },
    message: { type: "string" },
    state: { type: "string" },
    since: { type: "string" },
    limit: { type: "string", short: "n" },
    follow: { type: "boolean", short: "f" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const state = stateOption(values.state);
  const since = values.since === undefined ? undefined : sinceTime(values.since);
  const limit = wholeNumber("--limit", values.limit, 1) ?? (since === undefined ? 100 : undefined);
  const ops = await openOps(values);
  if (values.job !== undefined && ops.registry) ops.job(values.job);
  const filter: ListFilter = {
    ...(values.message !== undefined && { messageId: values.message }),
    ...(values.job !== undefined && { url: ops.jobUrls(values.job) }),
    ...(state && { state }),
    ...(since !== undefined && { fromDate: since }),
  };
  // Retries are counted from the attempts seen, which a state filter hides.
  const history = state ? undefined : new MessageHistory();
  const print = (entry: LogEntry) => {
    const known = history?.see(entry);
    if (values.json) printJson(eventJson(entry, ops, known), { line: true });
    else console.log(formatEvent(toEvent(entry, ops, known)));
  };
  const entries = await fetchLogs(ops, filter, limit);
  for (const entry of entries) print(entry);
  if (!values.follow) {
    if (!entries.length && !values.json) console.error("jobstash logs: no events match");
    return 0;
  }
  // Ctrl-C ends the follow, and the command with exit code 0.
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await followLogs(ops, filter, { after: entries.at(-1), onEntry: print, signal: controller.signal });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return 0;
}
