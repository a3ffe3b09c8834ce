import type { Core } from "../core.js";
import { notFound } from "../errors.js";
import { type Filter, messageMatches } from "../filters.js";
import type { LogEntry, LogState, Message, UserState } from "../model.js";

/** What {@link Messages.list} takes. */
export interface MessageListQuery {
  /** The filters every listing shares; `fromDate`/`toDate` compare the creation time. */
  filter: Filter;
  /** Only messages whose state (see {@link MessageListItem}) is one of these. */
  states?: readonly LogState[];
  /** Only messages whose URL contains this text. */
  urlContains?: string;
  /** Page size. */
  count: number;
  /** The previous page's cursor: continue with older messages. */
  cursor?: string;
}

/** One message of a listing, with the state it is in now. */
export interface MessageListItem {
  msg: Message;
  /**
   * Its latest lifecycle state, as QStash's logs name them: CREATED while it waits (delayed, or
   * lined up in a queue or at flow control), ACTIVE in flight, RETRY waiting for a retry,
   * CANCEL_REQUESTED, or the final DELIVERED, FAILED or CANCELLED.
   */
  state: LogState;
}

/** `/v2/messages`: look up and cancel messages that are not final yet; list every known message. */
export class Messages {
  readonly #core: Core;

  constructor(core: Core) {
    this.#core = core;
  }

  get(user: UserState, id: string): Message {
    const msg = user.messages.get(id);
    if (!msg)
      throw notFound(
        `message ${JSON.stringify(id)} not found (unknown, or already delivered, failed or cancelled)`,
      );
    return msg;
  }

  cancel(user: UserState, id: string): void {
    this.#core.transitions.cancelRequested(this.get(user, id));
  }

  /** Cancels the messages with these ids, or at most `count` matching a filter; returns how many. */
  cancelMany(user: UserState, ids: string[] | undefined, filter: Filter, count: number): number {
    const { transitions } = this.#core;
    if (ids) {
      let n = 0;
      for (const id of ids) {
        const msg = user.messages.get(id);
        if (msg && !msg.cancelRequested) {
          transitions.cancelRequested(msg);
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
    // Collected first: cancelling removes messages from the map being walked.
    for (const msg of matches) transitions.cancelRequested(msg);
    return matches.length;
  }

  /**
   * Every message this user's server still knows, newest first (by acceptance order): the
   * pending ones, and the final ones whose events are still in the event log (its last
   * `maxLogsPerUser` entries). Filtered, then paged; `total` counts every match.
   */
  list(user: UserState, q: MessageListQuery): { items: MessageListItem[]; total: number; cursor?: string } {
    const states = q.states?.length ? new Set(q.states) : undefined;
    const bound = q.cursor !== undefined && /^\d+$/.test(q.cursor) ? Number(q.cursor) : Infinity;
    const items: MessageListItem[] = [];
    let total = 0;
    let more = false;
    for (const item of this.#newestFirst(user)) {
      const { msg, state } = item;
      if (states && !states.has(state)) continue;
      if (q.urlContains && !msg.url.includes(q.urlContains)) continue;
      if (!messageMatches(msg, q.filter, msg.createdAt)) continue;
      total++;
      if (msg.order >= bound) continue;
      if (items.length < q.count) items.push(item);
      else more = true;
    }
    const last = items[items.length - 1];
    return { items, total, cursor: more && last ? String(last.msg.order) : undefined };
  }

  /** The pending messages and the final ones in the event log, merged newest first. */
  *#newestFirst(user: UserState): Generator<MessageListItem> {
    const final = new Map<Message, LogState>();
    for (let i = user.logs.length - 1; i >= 0; i--) {
      const e = user.logs[i]!;
      if (e.msg.phase === "done" && !final.has(e.msg)) final.set(e.msg, e.state);
    }
    const done = [...final.keys()].sort((a, b) => b.order - a.order);
    const live = [...user.messages.values()];
    // Accepted in order, so the map is sorted already; a restart may have filled it otherwise.
    if (live.some((m, i) => i > 0 && live[i - 1]!.order > m.order)) live.sort((a, b) => a.order - b.order);
    let d = 0;
    let l = live.length - 1;
    while (d < done.length || l >= 0) {
      const a = done[d];
      const b = live[l];
      if (a && (!b || a.order > b.order)) {
        d++;
        yield { msg: a, state: final.get(a)! };
      } else if (b) {
        l--;
        yield { msg: b, state: liveState(b) };
      }
    }
  }

  /**
   * A message by id, pending or final (as long as the event log or the DLQ still holds it);
   * undefined when the server no longer knows it.
   */
  find(user: UserState, id: string): MessageListItem | undefined {
    const live = user.messages.get(id);
    if (live) return { msg: live, state: liveState(live) };
    for (let i = user.logs.length - 1; i >= 0; i--) {
      const e = user.logs[i]!;
      if (e.msg.id === id) return { msg: e.msg, state: e.state };
    }
    for (const e of user.dlq.values()) if (e.msg.id === id) return { msg: e.msg, state: "FAILED" };
    return undefined;
  }

  /** The event log's entries of one message, oldest first. */
  events(user: UserState, msg: Message): LogEntry[] {
    return user.logs.filter((e) => e.msg === msg);
  }

  /** The callback and failure-callback messages QStash published about `msg`, oldest first. */
  callbacksOf(user: UserState, msg: Message): MessageListItem[] {
    const found = new Map<Message, LogState>();
    for (const e of user.logs) if (e.msg.parent === msg) found.set(e.msg, e.state);
    for (const m of user.messages.values()) if (m.parent === msg) found.set(m, liveState(m));
    return [...found]
      .map(([m, state]) => ({ msg: m, state: m.phase === "done" ? state : liveState(m) }))
      .sort((a, b) => a.msg.order - b.msg.order);
  }
}

/** The state a pending message is in now. */
function liveState(msg: Message): LogState {
  if (msg.cancelRequested) return "CANCEL_REQUESTED";
  if (msg.phase === "active") return "ACTIVE";
  if (msg.phase === "retry" || (msg.phase === "waiting" && msg.retried > 0)) return "RETRY";
  return "CREATED";
}
