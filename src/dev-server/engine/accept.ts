import { createHash } from "node:crypto";
import { QSTASH_NAME } from "../../protocol.js";
import type { Core } from "./core.js";
import { badRequest, DevServerError, notFound } from "./errors.js";
import { checkUrl, type HeaderMap, type MessageConfig, parseMessageConfig } from "./message-config.js";
import { type Endpoint, Message, type UserState } from "./model.js";
import { randomId } from "./signing.js";

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

/** Where one new message comes from, besides its config and destination. */
export interface Origin {
  now: number;
  queueName?: string;
  callerIp: string;
  topicName?: string;
  scheduleId?: string;
  /** Scopes deduplication ids to one endpoint of a URL group's fan-out. */
  dedupPrefix: string;
  /** The message a callback reports on. */
  parent?: Message;
}

/**
 * Accepting messages: a publish's headers become a config, its destination one or more
 * endpoints, deduplication drops repeats, and each new message enters the lifecycle through
 * `transitions.accepted`. Publishes, schedule ticks, callbacks and DLQ retries all come here.
 */
export class Accept {
  readonly #core: Core;
  #idCounter = 0;

  constructor(core: Core) {
    this.#core = core;
  }

  /** After a restart: new messages come after every recovered one. */
  resumeAfter(order: number): void {
    this.#idCounter = Math.max(this.#idCounter, order + 1);
  }

  /**
   * Validates a publish and returns a commit function, so a batch can check every item before
   * accepting any of them.
   */
  prepare(
    user: UserState,
    input: PublishInput,
  ): () => { status: 200 | 202; result: PublishResult | PublishResult[] } {
    const now = this.#core.clock.now();
    const cfg = this.#config(input.headers);
    if (cfg.cron) {
      throw badRequest(
        "Upstash-Cron is not accepted on publish: create schedules with POST /v2/schedules/{destination}",
      );
    }
    const targets = this.resolveDestination(user, input.destination);
    const queueName = input.queueName;
    if (queueName !== undefined && !QSTASH_NAME.test(queueName)) {
      throw badRequest(
        `invalid queue name ${JSON.stringify(queueName)}: use letters, digits, ".", "_" and "-"`,
      );
    }
    const body = toStoredBody(input.body);
    return () => {
      let status: 200 | 202 = 200;
      const results = targets.endpoints.map((ep) => {
        const r = this.one(user, cfg, ep, body, {
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

  publish(user: UserState, input: PublishInput) {
    return this.prepare(user, input)();
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
    const limits = this.#core.options.limits;
    // Forward-all mode copies arbitrary headers, which the key above does not cover.
    if (headers.get("upstash-header-forward") === "true") return parseMessageConfig(headers, limits);
    const cached = this.#configs.get(key);
    if (cached) return cached;
    const cfg = parseMessageConfig(headers, limits);
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

  /** A URL, or a URL group's endpoints; 404 for an unknown group. */
  resolveDestination(user: UserState, destination: string): { group?: string; endpoints: Endpoint[] } {
    if (/^https?:\/\//i.test(destination))
      return { endpoints: [{ url: checkUrl("destination", destination) }] };
    if (destination === "api/llm" || destination.startsWith("api/")) {
      throw new DevServerError(501, "the LLM API (api/llm) is not available on the local server");
    }
    if (!destination) throw badRequest("missing destination: publish to /v2/publish/<https://your.url/path>");
    if (!QSTASH_NAME.test(destination)) {
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

  /** Accepts one message for one endpoint, unless deduplication drops it. */
  one(
    user: UserState,
    cfg: MessageConfig,
    ep: Endpoint,
    body: string | undefined,
    origin: Origin,
  ): PublishResult {
    const { now } = origin;
    const key = this.#dedupKey(cfg, ep.url, body, origin.dedupPrefix);
    if (key) {
      const seen = user.dedup.get(key);
      if (seen && seen.expires > now) return { messageId: seen.messageId, url: ep.url, deduplicated: true };
      if (user.dedup.size > 10_000) {
        for (const [k, v] of user.dedup) if (v.expires <= now) user.dedup.delete(k);
      }
    }
    const order = this.#idCounter++;
    const msg = new Message(
      `msg_${randomId(14)}${order.toString(36)}`,
      user,
      this.#intern(ep.url),
      cfg,
      body,
      now,
      cfg.notBefore ?? now + (cfg.delayMs ?? 0),
      this.#intern(origin.callerIp),
    );
    msg.order = order;
    msg.topicName = origin.topicName;
    msg.endpointName = ep.name;
    msg.scheduleId = origin.scheduleId;
    if (origin.parent) {
      msg.parent = origin.parent;
      origin.parent.pendingChildren++;
    }
    if (key) {
      user.dedup.set(key, { messageId: msg.id, expires: now + this.#core.options.dedupWindowMs });
      this.#core.store.touched(user, "dedup", key);
    }
    const { dispatch } = this.#core;
    if (origin.queueName) msg.queue = dispatch.queueFor(user, origin.queueName, now);
    if (cfg.flowControl) msg.flow = dispatch.flowFor(user, cfg.flowControl);
    this.#core.transitions.accepted(msg);
    return { messageId: msg.id, url: ep.url };
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
