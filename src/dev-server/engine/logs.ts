import type { Core } from "./core.js";
import { badRequest } from "./errors.js";
import { type Filter, logMatches } from "./filters.js";
import type { AttemptOutcome, LogEntry, LogState, Message, UserState } from "./model.js";
import { responseReason } from "./reason.js";

/** One line's worth of a message's lifecycle, for the `logger` option. */
export interface LifecycleEvent {
  time: number;
  userId: string;
  messageId: string;
  state: LogState;
  url: string;
  retried: number;
  maxRetries: number;
  status?: number;
  error?: string;
  nextDeliveryTime?: number;
  queueName?: string;
  scheduleId?: string;
  /** Set when the message is a callback (`callback`) or failure callback (`failureCallback`). */
  callbackOf?: string;
  /** CREATED of a delayed message: when it becomes due (ms). */
  notBefore?: number;
  /**
   * DELIVERED, ERROR, RETRY and FAILED: the attempt's response body as kept (the first
   * `maxBodySize` bytes; see `truncatedFrom`), e.g. the error a failing endpoint answered.
   */
  responseBody?: Uint8Array;
  /** Set when the response body was longer than the server keeps: its full length in bytes. */
  truncatedFrom?: number;
  /**
   * ERROR, RETRY and FAILED: why, on one line, from the response body (the `error.message` of
   * jobstash's receiver, or a trimmed excerpt of whatever the endpoint answered).
   */
  reason?: string;
}

/**
 * The event log QStash serves at `/v2/logs`: every lifecycle event of every message, per user,
 * bounded (oldest dropped first), and handed to the `logger` option as it happens.
 */
export class EventLog {
  readonly #core: Core;
  readonly #listeners = new Set<(event: LifecycleEvent) => void>();

  constructor(core: Core) {
    this.#core = core;
  }

  /** Records an event; `attempt` is the outcome an attempt's event reports (for the `logger`). */
  append(msg: Message, state: LogState, extra?: Partial<LogEntry>, attempt?: AttemptOutcome): void {
    const { clock, options } = this.#core;
    const user = msg.user;
    const entry: LogEntry = { seq: user.logSeq++, time: clock.now(), state, msg, ...extra };
    user.logs.push(entry);
    this.#core.store.logged(entry);
    // Trimmed in steps of a quarter, not per entry: a splice per event would be O(n) each.
    if (user.logs.length > options.maxLogsPerUser * 1.25) {
      user.logs.splice(0, user.logs.length - options.maxLogsPerUser);
    }
    const logger = options.logger;
    // The event object is only built when someone reads it: publishing 100k messages with no
    // logger and no console open costs nothing here.
    if (logger || this.#listeners.size) {
      const event: LifecycleEvent = {
        time: entry.time,
        userId: user.userId,
        messageId: msg.id,
        state,
        url: msg.url,
        retried: msg.retried,
        maxRetries: msg.cfg.retries,
        status: extra?.responseStatus ?? attempt?.status,
        error: extra?.error,
        nextDeliveryTime: extra?.nextDeliveryTime,
        queueName: msg.queue?.name,
        scheduleId: msg.scheduleId,
        callbackOf: msg.parent
          ? msg.url === msg.parent.cfg.callback
            ? "callback"
            : "failureCallback"
          : undefined,
        notBefore: state === "CREATED" && msg.notBefore > entry.time ? msg.notBefore : undefined,
        responseBody: attempt?.body,
        truncatedFrom: attempt?.truncatedFrom,
        reason: state === "DELIVERED" ? undefined : responseReason(attempt?.body),
      };
      logger?.(event);
      for (const listener of this.#listeners) {
        // A listener is a reader: its failure must not stop the message it reads about.
        try {
          listener(event);
        } catch (error) {
          console.error("jobstash dev: an event listener failed", error);
        }
      }
    }
  }

  /**
   * Calls `listener` with every lifecycle event from now on, of every user, synchronously (as
   * the `logger` option is); returns the function that stops it. The console's live stream
   * reads the engine through this.
   */
  subscribe(listener: (event: LifecycleEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Log entries, newest first by default; the cursor is the sequence number to continue below. */
  query(
    user: UserState,
    q: {
      ids?: string[];
      filter: Filter;
      count: number;
      cursor?: string;
      order?: "latestFirst" | "earliestFirst";
    },
  ): { entries: LogEntry[]; cursor?: string } {
    const latestFirst = q.order !== "earliestFirst";
    const ids = q.ids ? new Set(q.ids) : undefined;
    let bound: number | undefined;
    let byTime = false;
    if (q.cursor) {
      if (!/^\d+(-\d+)?$/.test(q.cursor)) throw badRequest(`invalid cursor ${JSON.stringify(q.cursor)}`);
      // A bare ms timestamp (the SDK's docs start pagination with Date.now()) bounds by time.
      byTime = !q.cursor.includes("-");
      bound = Number(byTime ? q.cursor : q.cursor.split("-")[1]);
    }
    const out: LogEntry[] = [];
    const logs = user.logs;
    const n = logs.length;
    let more = false;
    for (let k = 0; k < n; k++) {
      const e = logs[latestFirst ? n - 1 - k : k]!;
      if (bound !== undefined) {
        if (byTime ? e.time > bound : latestFirst ? e.seq > bound : e.seq < bound) continue;
      }
      if (ids && !ids.has(e.msg.id)) continue;
      if (!ids && !logMatches(e, q.filter)) continue;
      if (out.length >= q.count) {
        more = true;
        break;
      }
      out.push(e);
    }
    const last = out[out.length - 1];
    return {
      entries: out,
      cursor: more && last ? `${last.time}-${latestFirst ? last.seq - 1 : last.seq + 1}` : undefined,
    };
  }
}
