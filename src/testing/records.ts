import type { DeliveryResult, OutgoingRequest } from "../dev-server/engine/delivery.js";
import type { LifecycleEvent } from "../dev-server/engine/logs.js";
import { bodyBytes, type DlqEntry, type Message, type UserState } from "../dev-server/engine/model.js";
import { route } from "../protocol.js";
import type {
  AttemptError,
  AttemptOutcome,
  DlqRecord,
  HookRecord,
  MessageRecord,
  MessageState,
  RunRecord,
} from "./types.js";

type Hook = "onSuccess" | "onFailure";

/** What the harness knows about one message beyond the engine's own state. */
interface Tracked {
  msg: Message;
  jobId: string;
  hook?: Hook;
  /** For a callback: the message it reports on. */
  source?: Tracked;
  final?: "delivered" | "failed" | "cancelled";
  attempts: (RunRecord | HookRecord)[];
  callbacks: HookRecord[];
  /** The attempt whose outcome the engine has not decided yet. */
  open?: RunRecord | HookRecord;
  input?: { value: unknown };
}

/**
 * The harness's record of every message and attempt, built from the two places that see them:
 * the sender (each attempt's request and answer) and the engine's lifecycle events (what QStash
 * does next: success, retry, failed, cancelled). Engine state stays the engine's; this only adds
 * what it forgets (finished messages, past attempts) and decodes bodies for assertions.
 */
export class Records {
  readonly #user: UserState;
  readonly #messages = new Map<string, Tracked>();
  /** Every job attempt, in order. */
  readonly runs: RunRecord[] = [];
  /** Every callback delivery that ran a hook, in order. */
  readonly hooks: HookRecord[] = [];

  constructor(user: UserState) {
    this.#user = user;
  }

  /** The engine's `logger` option: one call per lifecycle event, synchronously. */
  event(e: LifecycleEvent): void {
    switch (e.state) {
      case "CREATED":
        this.#created(e.messageId);
        break;
      case "DELIVERED":
        this.#decided(e.messageId, "success", "delivered");
        break;
      case "RETRY":
        this.#decided(e.messageId, "retry", undefined, e.nextDeliveryTime);
        break;
      case "FAILED":
        this.#decided(e.messageId, "failed", "failed");
        break;
      case "CANCELLED":
        this.#decided(e.messageId, "cancelled", "cancelled");
        break;
    }
  }

  #created(id: string): void {
    const msg = this.#user.messages.get(id);
    if (!msg) return;
    const { jobId, hook } = this.#target(msg.url);
    const source = msg.parent ? this.#messages.get(msg.parent.id) : undefined;
    this.#messages.set(id, { msg, jobId, hook, source, attempts: [], callbacks: [] });
  }

  /** The job and hook a URL delivers to; a registry has a few URLs, each parsed once. */
  readonly #targets = new Map<string, { jobId: string; hook?: Hook }>();

  #target(url: string): { jobId: string; hook?: Hook } {
    let target = this.#targets.get(url);
    if (!target) {
      const { rawId, marker } = route(url);
      const hook = marker === "success" ? "onSuccess" : marker === "failure" ? "onFailure" : undefined;
      target = { jobId: decode(rawId), ...(hook && { hook }) };
      this.#targets.set(url, target);
    }
    return target;
  }

  #decided(id: string, outcome: AttemptOutcome, final?: Tracked["final"], retryAt?: number): void {
    const t = this.#messages.get(id);
    if (!t) return;
    if (t.open) {
      t.open.outcome = outcome;
      if (retryAt !== undefined) t.open.retryAt = new Date(retryAt);
      t.open = undefined;
    }
    if (final) t.final = final;
  }

  /** An attempt's answer, from the sender, just before the engine decides what follows. */
  answered(request: OutgoingRequest, result: DeliveryResult, time: number): void {
    const t = this.#messages.get(request.headers["Upstash-Message-Id"] ?? "");
    if (!t) return;
    const answer = readAnswer(result, t.hook !== undefined);
    const base = {
      messageId: t.msg.id,
      jobId: t.jobId,
      input: this.#input(t),
      attempt: Number(request.headers["Upstash-Retried"] ?? 0) + 1,
      time: new Date(time),
      status: answer.status,
      // Replaced by the engine's verdict, which follows at once; only a message finished by
      // other means (its queue deleted) keeps it.
      outcome: "cancelled" as AttemptOutcome,
      ...(answer.error && { error: answer.error }),
    };
    if (t.hook) {
      const record: HookRecord = { hook: t.hook, sourceMessageId: t.msg.parent?.id ?? "", ...base };
      t.attempts.push(record);
      t.open = record;
      // QStash calls the success callback after failed attempts too; the receiver ignores those.
      if (!answer.ignored) {
        t.source?.callbacks.push(record);
        this.hooks.push(record);
      }
      return;
    }
    const record: RunRecord = {
      ...base,
      ...("output" in answer && { output: answer.output }),
      ...(t.msg.scheduleId && { scheduleId: t.msg.scheduleId }),
    };
    t.attempts.push(record);
    t.open = record;
    this.runs.push(record);
  }

  /** The job's input as delivered: the message's JSON body (a callback's: its source message's). */
  #input(t: Tracked): unknown {
    if (t.source) return this.#input(t.source);
    if (!t.input) {
      const text = bodyBytes(t.msg.body)?.toString("utf8");
      t.input = { value: text === undefined ? undefined : parseOr(text) };
    }
    return t.input.value;
  }

  has(id: string): boolean {
    return this.#messages.has(id);
  }

  /** The job id and hook of a message, for descriptions. */
  describe(msg: Message): { jobId: string; hook?: Hook } {
    const t = this.#messages.get(msg.id);
    return { jobId: t?.jobId ?? msg.url, ...(t?.hook && { hook: t.hook }) };
  }

  message(id: string): MessageRecord | undefined {
    const t = this.#messages.get(id);
    if (!t) return undefined;
    const { msg } = t;
    const state: MessageState = msg.phase === "done" ? (t.final ?? "cancelled") : msg.phase;
    const dueAt = msg.phase === "delayed" ? msg.notBefore : msg.phase === "retry" ? msg.at : undefined;
    const dlq = t.final === "failed" ? [...this.#user.dlq.values()].find((e) => e.msg === msg) : undefined;
    return {
      messageId: msg.id,
      jobId: t.jobId,
      ...(t.hook && { hook: t.hook, sourceMessageId: msg.parent?.id }),
      input: this.#input(t),
      state,
      createdAt: new Date(msg.createdAt),
      notBefore: new Date(msg.notBefore),
      retried: msg.retried,
      maxRetries: msg.cfg.retries,
      ...(dueAt !== undefined && { dueAt: new Date(dueAt) }),
      ...(msg.queue && { queue: msg.queue.name }),
      ...(msg.flow && { flowControlKey: msg.flow.key }),
      ...(msg.scheduleId && { scheduleId: msg.scheduleId }),
      attempts: [...t.attempts],
      callbacks: [...t.callbacks],
      ...(dlq && { dlqId: dlq.dlqId }),
    };
  }

  /** DLQ entries in the order they failed, from the `skip`-th on. */
  dlq(skip = 0): DlqRecord[] {
    const out: DlqRecord[] = [];
    let i = 0;
    for (const entry of this.#user.dlq.values()) if (i++ >= skip) out.push(this.#dlqRecord(entry));
    return out;
  }

  #dlqRecord(entry: DlqEntry): DlqRecord {
    const t = this.#messages.get(entry.msg.id);
    const { outcome } = entry;
    const error = readError(outcome.status, outcome.body, outcome.error);
    return {
      dlqId: entry.dlqId,
      messageId: entry.msg.id,
      jobId: t?.jobId ?? entry.msg.url,
      ...(t?.hook && { hook: t.hook }),
      input: t ? this.#input(t) : undefined,
      time: new Date(entry.time),
      attempts: entry.msg.retried + 1,
      status: outcome.status ?? 0,
      reason: error.message,
      error,
    };
  }
}

interface Answer {
  status: number;
  output?: unknown;
  error?: AttemptError;
  /** A callback the receiver had nothing to do for (a failed attempt's success callback). */
  ignored?: boolean;
}

/** The receiver's answer as plain data: a success's output, or the error it sent. */
function readAnswer(result: DeliveryResult, callback: boolean): Answer {
  if (!result.ok) return { status: 0, error: readError(undefined, undefined, result.error) };
  const { status, body } = result;
  if (status < 200 || status >= 300) return { status, error: readError(status, body, undefined) };
  const text = body.toString("utf8");
  const output = text === "" ? undefined : parseOr(text);
  if (callback) {
    const ignored = typeof (output as { ignored?: unknown } | undefined)?.ignored === "string";
    return { status, ignored };
  }
  return { status, output };
}

/** An error body (`{"error":{"code","message","issues"}}` from the receiver) as an {@link AttemptError}. */
function readError(status: number | undefined, body: Uint8Array | undefined, error: string | undefined) {
  if (status === undefined) {
    return { status: 0, code: "NO_RESPONSE", message: error ?? "no response" } satisfies AttemptError;
  }
  const text = body ? Buffer.from(body).toString("utf8") : "";
  const sent = (parseOr(text) as { error?: { code?: unknown; message?: unknown; issues?: unknown } })?.error;
  if (typeof sent?.code === "string" && typeof sent.message === "string") {
    return {
      status,
      code: sent.code,
      message: sent.message,
      ...(Array.isArray(sent.issues) && { issues: sent.issues as AttemptError["issues"] }),
    } satisfies AttemptError;
  }
  return { status, code: `HTTP_${status}`, message: text || `answered ${status}` } satisfies AttemptError;
}

/** JSON, or the text itself when it is not JSON. */
function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
