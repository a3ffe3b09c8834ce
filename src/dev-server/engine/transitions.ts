import { toStoredBody } from "./accept.js";
import type { Core } from "./core.js";
import type { DeliveryResult } from "./delivery.js";
import { type MessageConfig, parseMessageConfig, storeRawHeaders } from "./message-config.js";
import type { AttemptOutcome, Message } from "./model.js";
import { nextRetryDelay } from "./retry.js";

/** What an attempt's answer means for the message, decided in one place. */
export type Verdict =
  | { kind: "delivered" }
  | { kind: "retry"; error: string }
  | { kind: "failed"; error: string };

/**
 * QStash's rules: a 2xx is delivered; a 489 with `Upstash-NonRetryable-Error: true`, or any
 * failure once the retries are used up, fails for good; anything else is retried.
 */
function verdict(msg: Message, result: DeliveryResult): Verdict {
  if (result.ok && result.status >= 200 && result.status < 300) return { kind: "delivered" };
  const error = result.ok ? `${result.status} ${httpStatusText(result.status)}` : result.error;
  const nonRetryable =
    result.ok &&
    result.status === 489 &&
    String(result.headers["upstash-nonretryable-error"]).toLowerCase() === "true";
  return nonRetryable || msg.retried >= msg.cfg.retries
    ? { kind: "failed", error }
    : { kind: "retry", error };
}

/**
 * A message's lifecycle, as named transitions. This is the only code that changes a message's
 * `phase`:
 *
 *   accepted -> (delayed) -> released -> attempted -> delivered
 *                                      \-> retryScheduled -> retryDue -> attempted ...
 *                                      \-> failedForGood (DLQ)
 *   any pending phase -> cancelRequested -> cancelled
 *
 * Each transition also writes the event log, the way QStash's `/v2/logs` shows it.
 */
export class Transitions {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  /** A new message joins the live set: delayed until its not-before time, or released now. */
  accepted(msg: Message): void {
    const { clock, events, timers } = this.#core;
    msg.user.messages.set(msg.id, msg);
    this.#core.store.created(msg);
    events.append(msg, "CREATED");
    if (msg.notBefore > clock.now()) {
      msg.phase = "delayed";
      timers.schedule(msg, msg.notBefore);
    } else this.released(msg);
  }

  /**
   * After a restart, a live message picks up where the data directory left it. Delays and
   * retries keep their times (one that came due while the server was down fires at once); a
   * message whose attempt was in flight when the server stopped is attempted again: its answer
   * was lost, and QStash delivers at least once.
   */
  resumed(msg: Message): void {
    const { dispatch, store, timers } = this.#core;
    if (msg.holdsQueueSlot && msg.queue) msg.queue.active++;
    if (msg.phase === "delayed") timers.schedule(msg, msg.notBefore);
    else if (msg.phase === "retry") timers.schedule(msg, msg.at);
    else {
      msg.phase = "waiting";
      store.changed(msg);
      if (msg.queue && !msg.holdsQueueSlot) msg.queue.pending.push(msg);
      else dispatch.gate(msg);
    }
  }

  /** Its not-before time has come: it lines up in its queue or at flow control. */
  released(msg: Message): void {
    msg.phase = "waiting";
    this.#core.store.changed(msg);
    this.#core.dispatch.enqueue(msg);
  }

  /** Its retry time has come: back through flow control (the queue slot is still held). */
  retryDue(msg: Message): void {
    msg.phase = "waiting";
    this.#core.store.changed(msg);
    this.#core.dispatch.gate(msg);
  }

  /** Admitted by its queue and flow control: one attempt goes out. */
  attempted(msg: Message): void {
    const { events, timers } = this.#core;
    msg.phase = "active";
    this.#core.store.changed(msg);
    events.append(msg, "ACTIVE");
    const p = this.#core
      .attempt(msg)
      .then((result) => this.#settled(msg, result))
      .catch((error) => console.error("jobstash dev: internal error after a delivery", error));
    timers.track(p);
  }

  #settled(msg: Message, result: DeliveryResult): void {
    if (msg.flow) this.#core.dispatch.attemptEnded(msg.flow);
    const outcome: AttemptOutcome = result.ok
      ? {
          status: result.status,
          headers: result.headers,
          body: result.body,
          truncatedFrom: result.truncatedFrom,
        }
      : { error: result.error };
    if (msg.phase === "done") return;
    const v = verdict(msg, result);
    if (msg.cancelRequested) this.cancelled(msg);
    else if (v.kind === "delivered") this.delivered(msg, outcome);
    else if (v.kind === "failed") this.failedForGood(msg, outcome, v.error);
    else {
      const now = this.#core.clock.now();
      this.retryScheduled(
        msg,
        outcome,
        v.error,
        now + nextRetryDelay(msg, result, now, this.#core.options.retryScale),
      );
    }
  }

  delivered(msg: Message, outcome: AttemptOutcome): void {
    const extra = { responseStatus: outcome.status, responseBody: outcome.body };
    this.#core.events.append(msg, "DELIVERED", extra, outcome);
    this.#core.schedules.markRun(msg, "SUCCESS");
    this.#callback(msg, outcome, "callback");
    this.#finish(msg);
  }

  retryScheduled(msg: Message, outcome: AttemptOutcome, error: string, at: number): void {
    const { events, timers } = this.#core;
    events.append(
      msg,
      "ERROR",
      { error, responseStatus: outcome.status, responseBody: outcome.body },
      outcome,
    );
    events.append(msg, "RETRY", { nextDeliveryTime: at, error }, outcome);
    // QStash calls the success callback after every attempt, failed ones included.
    this.#callback(msg, outcome, "callback");
    msg.retried++;
    msg.phase = "retry";
    this.#core.store.changed(msg);
    timers.schedule(msg, at);
  }

  /** Retries used up, or a non-retryable answer: into the DLQ, with both callbacks. */
  failedForGood(msg: Message, outcome: AttemptOutcome, error: string): void {
    const { events, dlq, schedules } = this.#core;
    const extra = { error, responseStatus: outcome.status, responseBody: outcome.body };
    events.append(msg, "ERROR", extra, outcome);
    const dlqId = dlq.add(msg, outcome);
    events.append(msg, "FAILED", extra, outcome);
    schedules.markRun(msg, "FAIL");
    this.#callback(msg, outcome, "callback");
    this.#callback(msg, outcome, "failureCallback", dlqId);
    this.#finish(msg);
  }

  /**
   * Cancel a pending message. One in flight finishes as cancelled when its attempt returns
   * (QStash cannot take back a request it sent).
   */
  cancelRequested(msg: Message): void {
    if (msg.cancelRequested || msg.phase === "done") return;
    msg.cancelRequested = true;
    this.#core.store.changed(msg);
    this.#core.events.append(msg, "CANCEL_REQUESTED");
    if (msg.phase === "active") return;
    this.#core.timers.unschedule(msg);
    if (msg.phase === "waiting") this.#core.dispatch.withdraw(msg);
    this.cancelled(msg);
  }

  cancelled(msg: Message): void {
    this.#core.events.append(msg, "CANCELLED");
    this.#finish(msg);
  }

  /** Any final state: out of the live set; its queue slot is freed once its callbacks finish too. */
  #finish(msg: Message): void {
    const { dispatch, timers } = this.#core;
    msg.phase = "done";
    msg.user.messages.delete(msg.id);
    this.#core.store.changed(msg);
    timers.unschedule(msg);
    if (msg.pendingChildren === 0) dispatch.releaseQueueSlot(msg);
    const parent = msg.parent;
    if (parent) {
      parent.pendingChildren--;
      if (parent.pendingChildren === 0 && parent.phase === "done") dispatch.releaseQueueSlot(parent);
    }
    this.#core.finished();
  }

  /** Publishes the JSON QStash posts to a callback URL, as a message of its own. */
  #callback(
    msg: Message,
    outcome: AttemptOutcome,
    which: "callback" | "failureCallback",
    dlqId?: string,
  ): void {
    const url = msg.cfg[which];
    if (!url) return;
    const payload: Record<string, unknown> = {
      status: outcome.status ?? 0,
      header: storeRawHeaders(outcome.headers),
      body: (outcome.body ?? Buffer.alloc(0)).toString("base64"),
      retried: msg.retried,
      maxRetries: msg.cfg.retries,
    };
    if (dlqId) payload.dlqId = dlqId;
    if (outcome.error && outcome.status === undefined) payload.error = outcome.error;
    // Not a QStash field: QStash cuts silently. Namespaced so no QStash field can collide
    // with it, and ignored by whatever reads QStash's fields (the SDK never parses callbacks).
    if (outcome.truncatedFrom !== undefined) {
      payload.jobstashBodyTruncated = { size: outcome.truncatedFrom, kept: outcome.body?.length ?? 0 };
    }
    Object.assign(payload, {
      sourceMessageId: msg.id,
      topicName: msg.topicName,
      endpointName: msg.endpointName,
      url: msg.url,
      method: msg.cfg.method,
      sourceHeader: msg.cfg.header,
      sourceBody: Buffer.from(msg.body ?? "", "latin1").toString("base64"),
      notBefore: msg.notBefore,
      createdAt: msg.createdAt,
      scheduleId: msg.scheduleId,
      callerIP: msg.callerIp,
    });
    const headers = new Map(msg.cfg[which === "callback" ? "callbackHeaders" : "failureCallbackHeaders"]);
    headers.set("content-type", "application/json");
    let cfg: MessageConfig;
    try {
      cfg = parseMessageConfig(headers, this.#core.options.limits, {
        retries: msg.cfg.retries,
        retryDelay: msg.cfg.retryDelay,
        timeoutMs: msg.cfg.timeoutMs,
      });
    } catch {
      // Validated at publish time; a bad override here can only mean a server bug.
      return;
    }
    cfg.callback = undefined;
    cfg.failureCallback = undefined;
    cfg.flowControl = undefined;
    cfg.deduplicationId = undefined;
    cfg.contentBasedDeduplication = undefined;
    cfg.delayMs = undefined;
    cfg.notBefore = undefined;
    this.#core.accept.one(msg.user, cfg, { url }, toStoredBody(Buffer.from(JSON.stringify(payload))), {
      now: this.#core.clock.now(),
      callerIp: msg.callerIp,
      dedupPrefix: "",
      parent: msg,
    });
  }
}

function httpStatusText(status: number): string {
  return status === 489 ? "Non-Retryable" : (STATUS_TEXT[status] ?? "");
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
