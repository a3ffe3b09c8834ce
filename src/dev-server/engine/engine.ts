import { createHash } from "node:crypto";
import { CronExpressionParser } from "cron-parser";
import type { Clock } from "./clock.js";
import {
  type ConfigLimits,
  checkUrl,
  type HeaderMap,
  type MessageConfig,
  NAME_PATTERN,
  parseMessageConfig,
  storeRawHeaders,
} from "./config.js";
import { Deliverer, type DeliveryResult } from "./delivery.js";
import { badRequest, DevServerError, notFound } from "./errors.js";
import { TimerHeap } from "./heap.js";
import {
  type AttemptOutcome,
  type DlqEntry,
  type Endpoint,
  FlowKey,
  type LogEntry,
  type LogState,
  Message,
  Queue,
  Schedule,
  type UrlGroup,
  UserState,
} from "./model.js";
import { responseReason } from "./reason.js";
import { defaultBackoffMs, retryAfterMs } from "./retry.js";
import { randomId, signDelivery } from "./signing.js";
import type { DevUser } from "./users.js";

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

export interface EngineOptions {
  clock: Clock;
  users: readonly DevUser[];
  retryScale: number;
  limits: ConfigLimits;
  defaultTimeoutMs: number;
  maxLogsPerUser: number;
  dedupWindowMs: number;
  /** Response bytes kept per attempt; longer bodies are cut, and callbacks say so. @default 10 MiB */
  maxResponseBytes?: number;
  logger?: (event: LifecycleEvent) => void;
}

/** What a publish answers for one destination. */
export interface PublishResult {
  messageId: string;
  url?: string;
  deduplicated?: boolean;
}

export interface PublishInput {
  destination: string;
  headers: HeaderMap;
  body: Buffer | undefined;
  queueName?: string;
  callerIp: string;
}

type Due = Message | Schedule | FlowKey;

/** Query-style filters: each field may hold several values (OR), fields combine with AND. */
export type Filter = Map<string, string[]>;

/**
 * Time, storage, scheduling and delivery of the local server, with no HTTP routing in it. All
 * state is in memory and per user; one heap of due items driven by one clock timer wakes up
 * delayed messages, retries, cron ticks and rate windows.
 */
export class Engine {
  readonly clock: Clock;
  readonly #opts: EngineOptions;
  readonly #users = new Map<string, UserState>();
  readonly #heap = new TimerHeap<Due>();
  readonly #deliverer: Deliverer;
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;
  #idCounter = 0;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
    this.clock = opts.clock;
    this.#deliverer = new Deliverer(undefined, opts.maxResponseBytes);
    for (const u of opts.users) {
      this.#users.set(
        u.token,
        new UserState(u.userId, u.token, u.currentSigningKey, u.nextSigningKey, u.userId === "defaultUser"),
      );
    }
  }

  // ---------------------------------------------------------------- users and keys

  /** The user a token belongs to; 401 when it is none of the known tokens. */
  user(token: string | undefined): UserState {
    if (!token) {
      throw new DevServerError(
        401,
        "missing token: send Authorization: Bearer <QSTASH_TOKEN> (or ?qstash_token=)",
      );
    }
    const user = this.#users.get(token);
    if (!user) {
      throw new DevServerError(
        401,
        "unknown token: use one of the dev users' QSTASH_TOKEN values printed by `jobstash dev`",
      );
    }
    return user;
  }

  keys(user: UserState): { current: string; next: string } {
    return { current: user.currentSigningKey, next: user.nextSigningKey };
  }

  rotateKeys(user: UserState): { current: string; next: string } {
    if (!user.fixedKeys) {
      user.currentSigningKey = user.nextSigningKey;
      user.nextSigningKey = `sig_${randomId(28)}`;
    }
    return this.keys(user);
  }

  // ---------------------------------------------------------------- time

  #schedule(item: Due, at: number): void {
    this.#heap.push(item, at);
    this.#arm();
  }

  #unschedule(item: Due): void {
    this.#heap.remove(item);
  }

  #arm(): void {
    if (this.#closed) return;
    const top = this.#heap.peek();
    if (!top) return;
    if (top.at >= this.#timerAt && this.#timer !== undefined) return;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timerAt = top.at;
    this.#timer = this.clock.setTimer(() => this.#wake(), Math.max(0, top.at - this.clock.now()));
  }

  #wake(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    // Bounded batches keep the event loop responsive when thousands come due at once.
    for (let i = 0; i < 10_000; i++) {
      const top = this.#heap.peek();
      if (!top || top.at > now) break;
      this.#heap.pop();
      try {
        this.#fire(top);
      } catch (error) {
        console.error("jobstash dev: internal error while firing a timer", error);
      }
    }
    this.#arm();
  }

  #fire(item: Due): void {
    if (item.kind === "message") {
      if (item.phase === "delayed") this.#release(item);
      else if (item.phase === "retry") this.#gate(item);
    } else if (item.kind === "schedule") this.#tick(item);
    else this.#pumpFlow(item);
  }

  /** Counts a delivery in flight; a counter rather than a promise set keeps the hot path cheap. */
  #track(p: Promise<void>): void {
    this.#inflight++;
    p.then(() => {
      if (--this.#inflight === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Resolves when no delivery is in flight (used by the virtual clock between steps). */
  async idle(): Promise<void> {
    while (this.#inflight > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- publish

  #limits(): ConfigLimits {
    return this.#opts.limits;
  }

  #newMessageId(): string {
    return `msg_${randomId(14)}${(this.#idCounter++).toString(36)}`;
  }

  /**
   * Validates a publish and returns a commit function, so a batch can check every item before
   * accepting any of them.
   */
  preparePublish(
    user: UserState,
    input: PublishInput,
  ): () => { status: 200 | 202; result: PublishResult | PublishResult[] } {
    const now = this.clock.now();
    const cfg = this.#config(input.headers);
    if (cfg.cron) {
      throw badRequest(
        "Upstash-Cron is not accepted on publish: create schedules with POST /v2/schedules/{destination}",
      );
    }
    const targets = this.#resolveDestination(user, input.destination);
    const queueName = input.queueName;
    if (queueName !== undefined && !NAME_PATTERN.test(queueName)) {
      throw badRequest(
        `invalid queue name ${JSON.stringify(queueName)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    const body = toStoredBody(input.body);
    return () => {
      let status: 200 | 202 = 200;
      const results = targets.endpoints.map((ep) => {
        const r = this.#publishOne(user, cfg, ep, body, {
          now,
          queueName,
          callerIp: input.callerIp,
          topicName: targets.group,
          dedupPrefix: targets.group ? `${ep.url}|` : "",
        });
        if (r.deduplicated) status = 202;
        return r;
      });
      return { status, result: targets.group ? results : results[0]! };
    };
  }

  /**
   * Parsed configs, shared by every message published with the same configuration headers.
   * Most traffic repeats a handful of header sets, so 100k delayed messages share a few config
   * objects instead of holding one each (and skip re-parsing).
   */
  readonly #configs = new Map<string, MessageConfig>();

  #config(headers: HeaderMap): MessageConfig {
    let key = "";
    for (const [name, value] of headers) {
      if (
        name === "content-type" ||
        (name.startsWith("upstash-") && !name.startsWith("upstash-telemetry-"))
      ) {
        key += `${name}\0${value}\0`;
      }
    }
    // Forward-all mode copies arbitrary headers, which the key above does not cover.
    if (headers.get("upstash-header-forward") === "true") return parseMessageConfig(headers, this.#limits());
    const cached = this.#configs.get(key);
    if (cached) return cached;
    const cfg = parseMessageConfig(headers, this.#limits());
    if (this.#configs.size >= 512) this.#configs.clear();
    this.#configs.set(key, cfg);
    return cfg;
  }

  readonly #strings = new Map<string, string>();

  /**
   * One shared, flat copy of strings that repeat across messages (destinations, caller IPs).
   * A destination cut from the request target otherwise keeps the whole request URL alive
   * through V8's sliced and cons strings, once per message.
   */
  #intern(value: string): string {
    const hit = this.#strings.get(value);
    if (hit !== undefined) return hit;
    const flat = Buffer.from(value).toString();
    if (this.#strings.size >= 10_000) this.#strings.clear();
    this.#strings.set(flat, flat);
    return flat;
  }

  publish(user: UserState, input: PublishInput) {
    return this.preparePublish(user, input)();
  }

  #resolveDestination(user: UserState, destination: string): { group?: string; endpoints: Endpoint[] } {
    if (/^https?:\/\//i.test(destination))
      return { endpoints: [{ url: checkUrl("destination", destination) }] };
    if (destination === "api/llm" || destination.startsWith("api/")) {
      throw new DevServerError(501, "the LLM API (api/llm) is not available on the local server");
    }
    if (!destination) throw badRequest("missing destination: publish to /v2/publish/<https://your.url/path>");
    if (!NAME_PATTERN.test(destination)) {
      throw badRequest(
        `invalid destination ${JSON.stringify(destination)}: use an absolute http(s):// URL or a URL group name`,
      );
    }
    const group = user.groups.get(destination);
    if (!group || group.endpoints.length === 0) {
      throw notFound(
        `URL group ${JSON.stringify(destination)} not found: create it with POST /v2/topics/${destination}/endpoints`,
      );
    }
    return { group: group.name, endpoints: group.endpoints };
  }

  #dedupKey(cfg: MessageConfig, url: string, body: string | undefined, prefix: string): string | undefined {
    if (cfg.deduplicationId) return `id:${prefix}${cfg.deduplicationId}`;
    if (!cfg.contentBasedDeduplication) return undefined;
    const h = createHash("sha256").update(url).update("\0");
    if (body) h.update(body, "latin1");
    const header = Object.keys(cfg.header)
      .sort()
      .map((k) => `${k}:${cfg.header[k]!.join(",")}`)
      .join("\n");
    return `content:${h.update("\0").update(header).digest("base64")}`;
  }

  #publishOne(
    user: UserState,
    cfg: MessageConfig,
    ep: Endpoint,
    body: string | undefined,
    ctx: {
      now: number;
      queueName?: string;
      callerIp: string;
      topicName?: string;
      scheduleId?: string;
      dedupPrefix: string;
      parent?: Message;
    },
  ): PublishResult {
    const { now } = ctx;
    const key = this.#dedupKey(cfg, ep.url, body, ctx.dedupPrefix);
    if (key) {
      const seen = user.dedup.get(key);
      if (seen && seen.expires > now) return { messageId: seen.messageId, url: ep.url, deduplicated: true };
      if (user.dedup.size > 10_000) {
        for (const [k, v] of user.dedup) if (v.expires <= now) user.dedup.delete(k);
      }
    }
    const notBefore = cfg.notBefore ?? now + (cfg.delayMs ?? 0);
    const msg = new Message(
      this.#newMessageId(),
      user,
      this.#intern(ep.url),
      cfg,
      body,
      now,
      notBefore,
      this.#intern(ctx.callerIp),
    );
    msg.topicName = ctx.topicName;
    msg.endpointName = ep.name;
    msg.scheduleId = ctx.scheduleId;
    if (ctx.parent) {
      msg.parent = ctx.parent;
      ctx.parent.pendingChildren++;
    }
    if (key) user.dedup.set(key, { messageId: msg.id, expires: now + this.#opts.dedupWindowMs });
    user.messages.set(msg.id, msg);
    if (ctx.queueName) {
      msg.queue = this.#queueFor(user, ctx.queueName, now);
    }
    if (cfg.flowControl) msg.flow = this.#flowFor(user, cfg.flowControl);
    this.#log(msg, "CREATED");
    if (notBefore > now) this.#schedule(msg, notBefore);
    else this.#release(msg);
    return { messageId: msg.id, url: ep.url };
  }

  // ---------------------------------------------------------------- dispatch

  /** A message whose not-before time has come: into its queue, or on to flow control. */
  #release(msg: Message): void {
    msg.phase = "waiting";
    const q = msg.queue;
    if (q) {
      q.pending.push(msg);
      this.#pumpQueue(q);
    } else this.#gate(msg);
  }

  #pumpQueue(q: Queue): void {
    while (!q.paused && q.active < q.parallelism && q.pending.length) {
      const msg = q.pending.shift()!;
      q.active++;
      msg.holdsQueueSlot = true;
      this.#gate(msg);
    }
  }

  #releaseQueueSlot(msg: Message): void {
    if (!msg.holdsQueueSlot || !msg.queue) return;
    msg.holdsQueueSlot = false;
    msg.queue.active--;
    this.#pumpQueue(msg.queue);
  }

  /** Flow control, applied to every attempt including retries. */
  #gate(msg: Message): void {
    msg.phase = "waiting";
    const fk = msg.flow;
    if (fk) {
      if (fk.waitlist.length || !this.#flowAdmits(fk)) {
        fk.waitlist.push(msg);
        this.#pumpFlow(fk);
        return;
      }
      this.#flowTake(fk);
    }
    this.#attempt(msg);
  }

  #flowAdmits(fk: FlowKey): boolean {
    if (fk.paused) return false;
    if (fk.parallelism !== undefined && fk.active >= fk.parallelism) return false;
    if (fk.rate !== undefined) {
      const now = this.clock.now();
      if (now >= fk.periodStart + fk.period * 1000) {
        fk.periodStart = now;
        fk.rateCount = 0;
      }
      if (fk.rateCount >= fk.rate) return false;
    }
    return true;
  }

  #flowTake(fk: FlowKey): void {
    fk.active++;
    fk.rateCount++;
  }

  #pumpFlow(fk: FlowKey): void {
    while (fk.waitlist.length && this.#flowAdmits(fk)) {
      const msg = fk.waitlist.shift()!;
      this.#flowTake(fk);
      this.#attempt(msg);
    }
    // Rate-limited with work waiting: wake up when the window rolls over.
    if (fk.waitlist.length && !fk.paused && fk.rate !== undefined && fk.rateCount >= fk.rate) {
      const at = fk.periodStart + fk.period * 1000;
      if (fk.heapIndex < 0 || fk.at !== at) this.#schedule(fk, at);
    }
  }

  #flowFor(user: UserState, cfg: NonNullable<MessageConfig["flowControl"]>): FlowKey {
    let fk = user.flow.get(cfg.key);
    if (!fk) {
      fk = new FlowKey(cfg.key);
      fk.periodStart = this.clock.now();
      user.flow.set(cfg.key, fk);
    }
    // The latest publish sets the key's limits, unless they are pinned.
    if (!fk.pinnedParallelism) fk.parallelism = cfg.parallelism;
    if (!fk.pinnedRate) {
      fk.rate = cfg.rate;
      fk.period = cfg.period ?? 1;
    }
    return fk;
  }

  #queueFor(user: UserState, name: string, now: number): Queue {
    let q = user.queues.get(name);
    if (!q) {
      q = new Queue(name, 1, false, now, now);
      user.queues.set(name, q);
    }
    return q;
  }

  // ---------------------------------------------------------------- delivery

  #attempt(msg: Message): void {
    msg.phase = "active";
    this.#log(msg, "ACTIVE");
    const user = msg.user;
    const now = this.clock.now();
    const body = msg.body === undefined ? undefined : Buffer.from(msg.body, "latin1");
    const headers: Record<string, string> = {};
    for (const name in msg.cfg.header) headers[name] = msg.cfg.header[name]!.join(", ");
    headers["User-Agent"] = "Upstash-QStash";
    headers["Upstash-Message-Id"] = msg.id;
    headers["Upstash-Retried"] = String(msg.retried);
    headers["Upstash-Caller-Ip"] = msg.callerIp;
    if (msg.scheduleId) headers["Upstash-Schedule-Id"] = msg.scheduleId;
    if (msg.topicName) headers["Upstash-Topic-Name"] = msg.topicName;
    if (msg.endpointName) headers["Upstash-Endpoint-Name"] = msg.endpointName;
    headers["Upstash-Signature"] = signDelivery(user.currentSigningKey, {
      sub: msg.url,
      iat: Math.floor(now / 1000),
      body: body ?? "",
    });
    const p = this.#deliverer
      .send({
        url: msg.url,
        method: msg.cfg.method,
        headers,
        body,
        timeoutMs: msg.cfg.timeoutMs ?? this.#opts.defaultTimeoutMs,
      })
      .then((result) => this.#onResult(msg, result))
      .catch((error) => console.error("jobstash dev: internal error after a delivery", error));
    this.#track(p);
  }

  #onResult(msg: Message, result: DeliveryResult): void {
    if (msg.flow) {
      msg.flow.active--;
      this.#pumpFlow(msg.flow);
    }
    const outcome: AttemptOutcome = result.ok
      ? {
          status: result.status,
          headers: result.headers,
          body: result.body,
          truncatedFrom: result.truncatedFrom,
        }
      : { error: result.error };
    msg.last = outcome;
    if (msg.phase === "done") return;
    if (msg.cancelRequested) {
      this.#finishCancel(msg);
      return;
    }
    const now = this.clock.now();
    const ok = result.ok && result.status >= 200 && result.status < 300;
    if (ok) {
      this.#log(msg, "DELIVERED", { responseStatus: outcome.status, responseBody: outcome.body });
      this.#markScheduleRun(msg, "SUCCESS");
      this.#publishCallback(msg, outcome, "callback");
      this.#finish(msg);
      return;
    }
    const error = result.ok ? `${result.status} ${httpStatusText(result.status)}` : result.error;
    const nonRetryable =
      result.ok &&
      result.status === 489 &&
      String(result.headers["upstash-nonretryable-error"]).toLowerCase() === "true";
    if (nonRetryable || msg.retried >= msg.cfg.retries) {
      this.#log(msg, "ERROR", { error, responseStatus: outcome.status, responseBody: outcome.body });
      const dlqId = `${now}-${msg.user.dlqSeq++}`;
      const entry: DlqEntry = { dlqId, msg, time: now, outcome };
      msg.user.dlq.set(dlqId, entry);
      this.#log(msg, "FAILED", { error, responseStatus: outcome.status, responseBody: outcome.body });
      this.#markScheduleRun(msg, "FAIL");
      this.#publishCallback(msg, outcome, "callback");
      this.#publishCallback(msg, outcome, "failureCallback", dlqId);
      this.#finish(msg);
      return;
    }
    const delay = this.#retryDelay(msg, result, now);
    const next = now + delay;
    this.#log(msg, "ERROR", { error, responseStatus: outcome.status, responseBody: outcome.body });
    this.#log(msg, "RETRY", { nextDeliveryTime: next, error });
    this.#publishCallback(msg, outcome, "callback");
    msg.retried++;
    msg.phase = "retry";
    this.#schedule(msg, next);
  }

  #retryDelay(msg: Message, result: DeliveryResult, now: number): number {
    const scale = this.#opts.retryScale;
    if (result.ok) {
      const after = retryAfterMs(result.headers, now);
      if (after !== undefined) return after * scale;
    }
    // `retried` in expressions counts retries already done (0 before the first retry).
    if (msg.cfg.retryDelayFn) return msg.cfg.retryDelayFn(msg.retried) * scale;
    return defaultBackoffMs(msg.retried + 1) * scale;
  }

  #publishCallback(
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
    // Not a QStash field: QStash cuts silently. Namespaced so no QStash field can collide
    // with it, and ignored by whatever reads QStash's fields (the SDK never parses callbacks).
    if (outcome.truncatedFrom !== undefined) {
      payload.jobstashBodyTruncated = { size: outcome.truncatedFrom, kept: outcome.body?.length ?? 0 };
    }
    const headers: HeaderMap = new Map(
      msg.cfg[which === "callback" ? "callbackHeaders" : "failureCallbackHeaders"],
    );
    headers.set("content-type", "application/json");
    let cfg: MessageConfig;
    try {
      cfg = parseMessageConfig(headers, this.#limits(), {
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
    this.#publishOne(msg.user, cfg, { url }, toStoredBody(Buffer.from(JSON.stringify(payload))), {
      now: this.clock.now(),
      callerIp: msg.callerIp,
      dedupPrefix: "",
      parent: msg,
    });
  }

  /** A message reached a terminal state: drop it from the live set and free its queue slot. */
  #finish(msg: Message): void {
    msg.phase = "done";
    msg.user.messages.delete(msg.id);
    if (this.#drainWaiters.length && msg.user.messages.size === 0 && this.pendingCount() === 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      queueMicrotask(() => {
        for (const w of waiters) w();
      });
    }
    this.#unschedule(msg);
    if (msg.pendingChildren === 0) this.#releaseQueueSlot(msg);
    const parent = msg.parent;
    if (parent) {
      parent.pendingChildren--;
      if (parent.pendingChildren === 0 && parent.phase === "done") this.#releaseQueueSlot(parent);
    }
  }

  #finishCancel(msg: Message): void {
    this.#log(msg, "CANCELLED");
    this.#finish(msg);
  }

  // ---------------------------------------------------------------- messages

  getMessage(user: UserState, id: string): Message {
    const msg = user.messages.get(id);
    if (!msg)
      throw notFound(
        `message ${JSON.stringify(id)} not found (unknown, or already delivered, failed or cancelled)`,
      );
    return msg;
  }

  cancel(user: UserState, id: string): void {
    this.#cancel(this.getMessage(user, id));
  }

  #cancel(msg: Message): void {
    if (msg.cancelRequested || msg.phase === "done") return;
    msg.cancelRequested = true;
    this.#log(msg, "CANCEL_REQUESTED");
    if (msg.phase === "active") return; // finished when the attempt returns
    this.#unschedule(msg);
    if (msg.phase === "waiting") {
      if (!msg.queue?.pending.delete(msg)) msg.flow?.waitlist.delete(msg);
    }
    this.#finishCancel(msg);
  }

  /** Cancels messages matching a filter, at most `count`; returns how many. */
  cancelMany(user: UserState, ids: string[] | undefined, filter: Filter, count: number): number {
    let n = 0;
    if (ids) {
      for (const id of ids) {
        const msg = user.messages.get(id);
        if (msg && !msg.cancelRequested) {
          this.#cancel(msg);
          n++;
        }
      }
      return n;
    }
    const matches: Message[] = [];
    for (const msg of user.messages.values()) {
      if (matches.length >= count) break;
      if (!msg.cancelRequested && messageMatches(msg, filter, msg.createdAt)) matches.push(msg);
    }
    for (const msg of matches) this.#cancel(msg);
    return matches.length;
  }

  // ---------------------------------------------------------------- logs

  #log(msg: Message, state: LogState, extra?: Partial<LogEntry>): void {
    const user = msg.user;
    const entry: LogEntry = { seq: user.logSeq++, time: this.clock.now(), state, msg, ...extra };
    user.logs.push(entry);
    if (user.logs.length > this.#opts.maxLogsPerUser * 1.25) {
      user.logs.splice(0, user.logs.length - this.#opts.maxLogsPerUser);
    }
    const logger = this.#opts.logger;
    if (logger) {
      const attempt = ATTEMPT_STATES.has(state) ? msg.last : undefined;
      logger({
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
      });
    }
  }

  /** Log entries, newest first by default; the cursor is the sequence number to continue below. */
  logs(
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

  // ---------------------------------------------------------------- DLQ

  getDlq(user: UserState, dlqId: string): DlqEntry {
    const entry = user.dlq.get(dlqId);
    if (!entry) throw notFound(`DLQ message ${JSON.stringify(dlqId)} not found`);
    return entry;
  }

  /** DLQ entries matching a filter, paged by a cursor that is the position in the DLQ's order. */
  dlqPage(
    user: UserState,
    q: { ids?: string[]; filter: Filter; count: number; cursor?: string; order?: string },
  ): { entries: DlqEntry[]; cursor?: string } {
    let all = [...user.dlq.values()];
    if (q.ids) {
      const ids = new Set(q.ids);
      return { entries: all.filter((e) => ids.has(e.dlqId)) };
    }
    if (q.order === "latestFirst") all = all.reverse();
    const start = q.cursor ? Number(q.cursor) : 0;
    if (!Number.isInteger(start) || start < 0) throw badRequest(`invalid cursor ${JSON.stringify(q.cursor)}`);
    const out: DlqEntry[] = [];
    let i = 0;
    let seen = 0;
    for (; i < all.length; i++) {
      const e = all[i]!;
      if (!dlqMatches(e, q.filter)) continue;
      if (seen++ < start) continue;
      if (out.length >= q.count) break;
      out.push(e);
    }
    let more = false;
    for (; i < all.length; i++) {
      if (dlqMatches(all[i]!, q.filter)) {
        more = true;
        break;
      }
    }
    return { entries: out, cursor: more ? String(start + out.length) : undefined };
  }

  deleteDlq(user: UserState, entries: DlqEntry[]): number {
    let n = 0;
    for (const e of entries) if (user.dlq.delete(e.dlqId)) n++;
    return n;
  }

  /** Republishes DLQ entries as new messages (with optional `upstash-*` overrides) and removes them. */
  retryDlq(user: UserState, entries: DlqEntry[], overrides: HeaderMap, callerIp: string): PublishResult[] {
    const out: PublishResult[] = [];
    for (const e of entries) {
      const m = e.msg;
      let cfg = m.cfg;
      if (overrides.size) {
        const headers = new Map<string, string>();
        for (const [k, v] of Object.entries(m.cfg.header)) {
          headers.set(
            k === "Content-Type" ? "content-type" : `upstash-forward-${k.toLowerCase()}`,
            v.join(", "),
          );
        }
        for (const [k, v] of overrides) headers.set(k, v);
        cfg = { ...m.cfg, ...stripUndefined(parseMessageConfig(headers, this.#limits(), m.cfg)) };
      }
      cfg = {
        ...cfg,
        delayMs: undefined,
        notBefore: undefined,
        deduplicationId: undefined,
        contentBasedDeduplication: undefined,
      };
      const r = this.#publishOne(user, cfg, { url: m.url, name: m.endpointName }, m.body, {
        now: this.clock.now(),
        queueName: m.queue?.name,
        callerIp,
        topicName: m.topicName,
        scheduleId: m.scheduleId,
        dedupPrefix: "",
      });
      user.dlq.delete(e.dlqId);
      out.push({ messageId: r.messageId });
    }
    return out;
  }

  // ---------------------------------------------------------------- queues

  upsertQueue(user: UserState, name: string, parallelism: number, paused: boolean): void {
    if (!NAME_PATTERN.test(name)) {
      throw badRequest(`invalid queue name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`);
    }
    if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 1000) {
      throw badRequest(`invalid parallelism ${parallelism}: use a whole number from 1 to 1000`);
    }
    const now = this.clock.now();
    const q = this.#queueFor(user, name, now);
    q.parallelism = parallelism;
    q.paused = paused;
    q.updatedAt = now;
    this.#pumpQueue(q);
  }

  getQueue(user: UserState, name: string): Queue {
    const q = user.queues.get(name);
    if (!q) throw notFound(`queue ${JSON.stringify(name)} not found`);
    return q;
  }

  listQueues(user: UserState): Queue[] {
    return [...user.queues.values()];
  }

  deleteQueue(user: UserState, name: string): void {
    const q = user.queues.get(name);
    if (!q) return;
    // Nothing accepted is lost: messages still waiting on a deleted queue are cancelled explicitly.
    for (const msg of [...q.pending]) this.#cancel(msg);
    user.queues.delete(name);
  }

  pauseQueue(user: UserState, name: string, paused: boolean): void {
    const q = this.getQueue(user, name);
    q.paused = paused;
    q.updatedAt = this.clock.now();
    this.#pumpQueue(q);
  }

  // ---------------------------------------------------------------- schedules

  createSchedule(
    user: UserState,
    destination: string,
    headers: HeaderMap,
    body: Buffer | undefined,
    callerIp: string,
  ) {
    const cfg = parseMessageConfig(headers, this.#limits());
    if (!headers.has("content-type")) cfg.header["Content-Type"] = ["application/json"];
    const cron = cfg.cron?.trim();
    if (!cron) throw badRequest('missing Upstash-Cron: give a cron expression such as "*/5 * * * *"');
    const now = this.clock.now();
    const next = nextCronTime(cron, now); // validates
    this.#resolveDestination(user, destination);
    if (cfg.queueName !== undefined) this.#queueFor(user, cfg.queueName, now);
    const id = cfg.scheduleId ?? `scd_${randomId(20)}`;
    const old = user.schedules.get(id);
    if (old) this.#unschedule(old);
    const schedule = new Schedule(
      id,
      user,
      destination,
      cfg,
      toStoredBody(body),
      cron,
      old?.createdAt ?? now,
      callerIp,
    );
    schedule.nextScheduleTime = next;
    user.schedules.set(id, schedule);
    this.#schedule(schedule, next);
    return { scheduleId: id };
  }

  /** Updates `lastScheduleStates` when a message of the schedule's latest tick finishes. */
  #markScheduleRun(msg: Message, state: "SUCCESS" | "FAIL"): void {
    if (!msg.scheduleId) return;
    const s = msg.user.schedules.get(msg.scheduleId);
    if (s && msg.id in s.lastStates) s.lastStates[msg.id] = state;
  }

  #tick(s: Schedule): void {
    if (s.user.schedules.get(s.id) !== s) return;
    const now = this.clock.now();
    if (!s.paused) {
      s.lastScheduleTime = now;
      s.lastStates = {};
      try {
        const targets = this.#resolveDestination(s.user, s.destination);
        for (const ep of targets.endpoints) {
          const r = this.#publishOne(s.user, s.cfg, ep, s.body, {
            now,
            queueName: s.cfg.queueName,
            callerIp: s.callerIp,
            topicName: targets.group,
            scheduleId: s.id,
            dedupPrefix: "",
          });
          s.lastStates[r.messageId] = "IN_PROGRESS";
        }
      } catch (error) {
        // A URL group deleted after the schedule was created: skip this tick, keep the schedule.
        console.error(`jobstash dev: schedule ${s.id} could not fire: ${(error as Error).message}`);
      }
    }
    // Next tick strictly after this one (cron has minute resolution).
    const next = nextCronTime(s.cron, Math.max(now, s.at));
    s.nextScheduleTime = next;
    this.#schedule(s, next);
  }

  getSchedule(user: UserState, id: string): Schedule {
    const s = user.schedules.get(id);
    if (!s) throw notFound(`schedule ${JSON.stringify(id)} not found`);
    return s;
  }

  listSchedules(user: UserState): Schedule[] {
    return [...user.schedules.values()];
  }

  deleteSchedule(user: UserState, id: string): void {
    const s = user.schedules.get(id);
    if (!s) return;
    this.#unschedule(s);
    user.schedules.delete(id);
  }

  pauseSchedule(user: UserState, id: string, paused: boolean): void {
    this.getSchedule(user, id).paused = paused;
  }

  // ---------------------------------------------------------------- URL groups

  addEndpoints(user: UserState, name: string, endpoints: Endpoint[]): void {
    if (!NAME_PATTERN.test(name)) {
      throw badRequest(
        `invalid URL group name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    for (const ep of endpoints) checkUrl("endpoint url", ep.url);
    const now = this.clock.now();
    let g = user.groups.get(name);
    if (!g) {
      g = { name, createdAt: now, updatedAt: now, endpoints: [] };
      user.groups.set(name, g);
    }
    for (const ep of endpoints) {
      const i = g.endpoints.findIndex((e) => e.url === ep.url || (ep.name && e.name === ep.name));
      const clean: Endpoint = ep.name ? { name: ep.name, url: ep.url } : { url: ep.url };
      if (i >= 0) g.endpoints[i] = clean;
      else g.endpoints.push(clean);
    }
    g.updatedAt = now;
  }

  removeEndpoints(user: UserState, name: string, endpoints: { name?: string; url?: string }[]): void {
    const g = this.getGroup(user, name);
    g.endpoints = g.endpoints.filter(
      (e) => !endpoints.some((r) => (r.url && r.url === e.url) || (r.name && r.name === e.name)),
    );
    g.updatedAt = this.clock.now();
    if (g.endpoints.length === 0) user.groups.delete(name);
  }

  getGroup(user: UserState, name: string): UrlGroup {
    const g = user.groups.get(name);
    if (!g) throw notFound(`URL group ${JSON.stringify(name)} not found`);
    return g;
  }

  listGroups(user: UserState): UrlGroup[] {
    return [...user.groups.values()];
  }

  deleteGroup(user: UserState, name: string): void {
    user.groups.delete(name);
  }

  // ---------------------------------------------------------------- flow control

  getFlow(user: UserState, key: string): FlowKey {
    const fk = user.flow.get(key);
    if (!fk) throw notFound(`flow-control key ${JSON.stringify(key)} not found`);
    return fk;
  }

  listFlow(user: UserState, search?: string): FlowKey[] {
    return [...user.flow.values()].filter((f) => !search || f.key.includes(search));
  }

  pauseFlow(user: UserState, key: string, paused: boolean): void {
    const fk = this.getFlow(user, key);
    fk.paused = paused;
    this.#pumpFlow(fk);
  }

  pinFlow(user: UserState, key: string, pin: { parallelism?: number; rate?: number; period?: number }): void {
    const fk = this.getFlow(user, key);
    if (pin.parallelism !== undefined) {
      fk.parallelism = pin.parallelism;
      fk.pinnedParallelism = true;
    }
    if (pin.rate !== undefined || pin.period !== undefined) {
      if (pin.rate !== undefined) fk.rate = pin.rate;
      if (pin.period !== undefined) fk.period = pin.period;
      fk.pinnedRate = true;
    }
    this.#resetRate(fk);
  }

  unpinFlow(user: UserState, key: string, unpin: { parallelism: boolean; rate: boolean }): void {
    const fk = this.getFlow(user, key);
    if (unpin.parallelism) fk.pinnedParallelism = false;
    if (unpin.rate) fk.pinnedRate = false;
    this.#pumpFlow(fk);
  }

  resetFlowRate(user: UserState, key: string): void {
    this.#resetRate(this.getFlow(user, key));
  }

  #resetRate(fk: FlowKey): void {
    fk.rateCount = 0;
    fk.periodStart = this.clock.now();
    this.#unschedule(fk);
    this.#pumpFlow(fk);
  }

  globalParallelism(user: UserState): { parallelismMax: number; parallelismCount: number } {
    let count = 0;
    for (const m of user.messages.values()) if (m.phase === "active") count++;
    return { parallelismMax: 0, parallelismCount: count };
  }

  // ---------------------------------------------------------------- lifecycle

  #drainWaiters: (() => void)[] = [];

  /**
   * Resolves once every accepted message (callbacks included) is delivered, failed or cancelled.
   * With the real clock this includes waiting out delays and retry backoff, so pair it with
   * `retryScale` in end-to-end tests.
   *
   * @example
   * await client.publishJSON({ url, body });
   * await server.engine.drained();
   */
  drained(): Promise<void> {
    if (this.pendingCount() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Messages accepted and not yet in a final state, across users. */
  pendingCount(): number {
    let n = 0;
    for (const u of this.#users.values()) n += u.messages.size;
    return n;
  }

  /** Stops timers and closes idle sockets; accepted messages stay in memory. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#deliverer.close();
  }
}

/**
 * Bodies are kept as latin1 strings (one byte per char, exact round trip of any bytes): they
 * then live compactly in V8's heap instead of as one malloc'd ArrayBuffer each, which
 * fragmented RSS badly with 100k delayed messages.
 */
export function toStoredBody(body: Buffer | undefined): string | undefined {
  return body?.length ? body.toString("latin1") : undefined;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Next fire time after `after` (ms) for a cron with an optional `CRON_TZ=` prefix; 400 when invalid. */
export function nextCronTime(cron: string, after: number): number {
  let expr = cron.trim();
  let tz: string | undefined;
  const m = /^CRON_TZ=(\S+)\s+(.*)$/.exec(expr);
  if (m) {
    tz = m[1]!;
    expr = m[2]!.trim();
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
    } catch {
      throw badRequest(`invalid CRON_TZ ${JSON.stringify(tz)}: use an IANA time zone such as "Europe/Paris"`);
    }
  }
  if (expr.split(/\s+/).length !== 5) {
    throw badRequest(
      `invalid cron ${JSON.stringify(cron)}: use 5 fields (minute hour day-of-month month day-of-week)`,
    );
  }
  try {
    return CronExpressionParser.parse(expr, { currentDate: new Date(after), tz })
      .next()
      .getTime();
  } catch (error) {
    throw badRequest(`invalid cron ${JSON.stringify(cron)}: ${(error as Error).message}`);
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

function anyOf(values: string[] | undefined, test: (v: string) => boolean): boolean {
  return values === undefined || values.some(test);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

/** Common message filters (bulk cancel, DLQ, logs). `time` is what fromDate/toDate compare. */
export function messageMatches(m: Message, f: Filter, time: number): boolean {
  if (f.size === 0) return true;
  return (
    anyOf(f.get("messageId"), (v) => v === m.id) &&
    anyOf(f.get("url"), (v) => v === m.url) &&
    anyOf(f.get("topicName"), (v) => v === m.topicName) &&
    anyOf(f.get("queueName"), (v) => v === m.queue?.name) &&
    anyOf(f.get("scheduleId"), (v) => v === m.scheduleId) &&
    anyOf(f.get("flowControlKey"), (v) => v === m.cfg.flowControl?.key) &&
    anyOf(f.get("callerIp"), (v) => v === m.callerIp) &&
    anyOf(f.get("label"), (v) => m.cfg.labels?.includes(v) ?? false) &&
    anyOf(f.get("host"), (v) => v === hostOf(m.url)) &&
    anyOf(f.get("path"), (v) => v === pathOf(m.url)) &&
    anyOf(f.get("fromDate"), (v) => time >= Number(v)) &&
    anyOf(f.get("toDate"), (v) => time <= Number(v))
  );
}

const IN_PROGRESS = new Set(["ACTIVE", "RETRY", "ERROR"]);

/** Events that report an attempt's outcome (`msg.last`). */
const ATTEMPT_STATES: ReadonlySet<LogState> = new Set(["DELIVERED", "ERROR", "RETRY", "FAILED"]);

function logMatches(e: LogEntry, f: Filter): boolean {
  return (
    messageMatches(e.msg, f, e.time) &&
    anyOf(
      f.get("state"),
      (v) =>
        v === e.state ||
        (v === "CANCELED" && e.state === "CANCELLED") ||
        (v === "IN_PROGRESS" && IN_PROGRESS.has(e.state)),
    )
  );
}

function dlqMatches(e: DlqEntry, f: Filter): boolean {
  return (
    messageMatches(e.msg, f, e.time) && anyOf(f.get("responseStatus"), (v) => Number(v) === e.outcome.status)
  );
}
