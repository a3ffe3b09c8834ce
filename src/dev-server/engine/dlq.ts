import { type PublishResult, toStoredBody } from "./accept.js";
import type { Core } from "./core.js";
import { badRequest, notFound } from "./errors.js";
import { dlqMatches, type Filter } from "./filters.js";
import { type HeaderMap, type MessageConfig, parseMessageConfig } from "./message-config.js";
import type { AttemptOutcome, DlqEntry, Message, UserState } from "./model.js";

/**
 * The dead-letter queue: messages that failed for good, with their last answer, until they
 * are retried (republished as new messages) or deleted.
 */
export class Dlq {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  /** Files a message that failed for good; returns its DLQ id. */
  add(msg: Message, outcome: AttemptOutcome): string {
    const time = this.#core.clock.now();
    const dlqId = `${time}-${msg.user.dlqSeq++}`;
    msg.user.dlq.set(dlqId, { dlqId, msg, time, outcome });
    this.#core.store.touched(msg.user, "dlq", dlqId);
    return dlqId;
  }

  get(user: UserState, dlqId: string): DlqEntry {
    const entry = user.dlq.get(dlqId);
    if (!entry) throw notFound(`DLQ message ${JSON.stringify(dlqId)} not found`);
    return entry;
  }

  /** Entries matching a filter, paged by a cursor that is the position in the DLQ's order. */
  page(
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

  delete(user: UserState, entries: DlqEntry[]): number {
    let n = 0;
    for (const e of entries) {
      if (user.dlq.delete(e.dlqId)) {
        this.#core.store.touched(user, "dlq", e.dlqId);
        n++;
      }
    }
    return n;
  }

  /** Republishes entries as new messages (with optional `upstash-*` overrides) and removes them. */
  retry(user: UserState, entries: DlqEntry[], overrides: HeaderMap, callerIp: string): PublishResult[] {
    const out: PublishResult[] = [];
    for (const e of entries) {
      const m = e.msg;
      let cfg: MessageConfig = m.cfg;
      if (overrides.size) {
        const headers = new Map<string, string>();
        for (const [k, v] of Object.entries(m.cfg.header)) {
          headers.set(
            k === "Content-Type" ? "content-type" : `upstash-forward-${k.toLowerCase()}`,
            v.join(", "),
          );
        }
        for (const [k, v] of overrides) headers.set(k, v);
        cfg = { ...m.cfg, ...stripUndefined(parseMessageConfig(headers, this.#core.options.limits, m.cfg)) };
      }
      out.push(this.#republish(user, e, cfg, m.body, callerIp));
    }
    return out;
  }

  /**
   * Republishes one entry with another body (the console's "Edit and retry"): a new message
   * with the entry's configuration, as `retry` makes, and the entry removed.
   */
  replay(user: UserState, entry: DlqEntry, body: Buffer | undefined, callerIp: string): PublishResult {
    return this.#republish(user, entry, entry.msg.cfg, toStoredBody(body), callerIp);
  }

  #republish(
    user: UserState,
    e: DlqEntry,
    config: MessageConfig,
    body: string | undefined,
    callerIp: string,
  ): PublishResult {
    const m = e.msg;
    const cfg = {
      ...config,
      delayMs: undefined,
      notBefore: undefined,
      deduplicationId: undefined,
      contentBasedDeduplication: undefined,
    };
    const r = this.#core.accept.one(user, cfg, { url: m.url, name: m.endpointName }, body, {
      now: this.#core.clock.now(),
      queueName: m.queue?.name,
      callerIp,
      topicName: m.topicName,
      scheduleId: m.scheduleId,
      dedupPrefix: "",
    });
    user.dlq.delete(e.dlqId);
    this.#core.store.touched(user, "dlq", e.dlqId);
    return { messageId: r.messageId };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
