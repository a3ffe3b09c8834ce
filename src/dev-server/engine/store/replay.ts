import type { MessageConfig } from "../message-config.js";
import { FlowKey, Message, type Message as MessageType, Queue, Schedule, type UserState } from "../model.js";
import { FORMAT, loadConfig, loadOutcome, type MessageState, type Record, VERSION } from "./records.js";

/** A directory this version cannot read, or a record that makes no sense: refuse, never guess. */
export class DataError extends Error {
  override name = "DataError";
}

/**
 * Rebuilds the engine's state from records, in the order they were written (a snapshot's, then
 * each journal's). It builds the engine's own objects directly: a restart with 100k pending
 * messages must not hold them twice.
 */
export class Replay {
  readonly #users: Map<string, UserState>;
  readonly #maxLogs: number;
  readonly #configs = new Map<number, MessageConfig>();
  /** Every message seen, final ones too: logs, the DLQ and callbacks refer to them. */
  readonly #all = new Map<string, Message>();
  readonly #parentOf = new Map<Message, string>();
  maxOrder = -1;
  maxConfigId = -1;

  constructor(users: Iterable<UserState>, maxLogs: number) {
    this.#users = new Map([...users].map((u) => [u.userId, u]));
    this.#maxLogs = maxLogs;
  }

  message(id: string): Message | undefined {
    return this.#all.get(id);
  }

  #user(id: string): UserState {
    const user = this.#users.get(id);
    if (!user) throw new DataError(`records of an unknown user ${JSON.stringify(id)}`);
    return user;
  }

  #config(id: number): MessageConfig {
    const cfg = this.#configs.get(id);
    if (!cfg) throw new DataError(`a record refers to config ${id}, which no earlier record defines`);
    return cfg;
  }

  #queue(user: UserState, name: string, time: number): Queue {
    let q = user.queues.get(name);
    if (!q) {
      q = new Queue(name, 1, false, time, time);
      user.queues.set(name, q);
    }
    return q;
  }

  #flow(user: UserState, key: string): FlowKey {
    let fk = user.flow.get(key);
    if (!fk) {
      fk = new FlowKey(key);
      user.flow.set(key, fk);
    }
    return fk;
  }

  #state(msg: MessageType, s: MessageState): void {
    msg.phase = s.ph;
    msg.retried = s.r;
    if (s.at !== undefined) msg.at = s.at;
    msg.cancelRequested = s.cr === 1;
    msg.holdsQueueSlot = s.sl === 1;
    if (s.ph === "done") msg.user.messages.delete(msg.id);
    else msg.user.messages.set(msg.id, msg);
  }

  apply(r: Record): void {
    switch (r.k) {
      case "h":
        if (r.format !== FORMAT)
          throw new DataError(`not a jobstash dev data file (format ${JSON.stringify(r.format)})`);
        if (r.version > VERSION) {
          throw new DataError(
            `written by a newer jobstash (data format ${r.version}; this one reads up to ${VERSION}): upgrade jobstash, or use another directory`,
          );
        }
        return;
      case "u": {
        const user = this.#user(r.u);
        user.currentSigningKey = r.cur;
        user.nextSigningKey = r.nxt;
        user.dlqSeq = Math.max(user.dlqSeq, r.dq);
        return;
      }
      case "c":
        this.#configs.set(r.id, loadConfig(r.c));
        this.maxConfigId = Math.max(this.maxConfigId, r.id);
        return;
      case "m": {
        let msg = this.#all.get(r.id);
        if (!msg) {
          const user = this.#user(r.u);
          msg = new Message(r.id, user, r.url, this.#config(r.c), r.b, r.ca, r.nb, r.ip);
          msg.order = r.o;
          msg.topicName = r.tn;
          msg.endpointName = r.en;
          msg.scheduleId = r.si;
          if (r.q !== undefined) msg.queue = this.#queue(user, r.q, r.ca);
          if (r.f !== undefined) msg.flow = this.#flow(user, r.f);
          if (r.p !== undefined) this.#parentOf.set(msg, r.p);
          this.#all.set(r.id, msg);
          this.maxOrder = Math.max(this.maxOrder, r.o);
        }
        this.#state(msg, r);
        return;
      }
      case "ms": {
        const msg = this.#all.get(r.id);
        if (msg) this.#state(msg, r);
        return;
      }
      case "m-": {
        const msg = this.#all.get(r.id);
        if (!msg) return;
        msg.phase = "done";
        msg.holdsQueueSlot = r.sl === 1;
        msg.user.messages.delete(msg.id);
        return;
      }
      case "l": {
        const user = this.#user(r.u);
        const msg = this.#all.get(r.m);
        // Already there (a snapshot written while the engine ran holds some of what follows it).
        if (r.n < user.logSeq || !msg) return;
        user.logs.push({
          seq: r.n,
          time: r.t,
          state: r.s,
          msg,
          error: r.e,
          nextDeliveryTime: r.nd,
          responseStatus: r.st,
          responseBody: r.rb === undefined ? undefined : Buffer.from(r.rb, "base64"),
          responseHeaders: r.rh,
        });
        user.logSeq = r.n + 1;
        if (user.logs.length > this.#maxLogs * 1.25) user.logs.splice(0, user.logs.length - this.#maxLogs);
        return;
      }
      case "d": {
        const msg = this.#all.get(r.m);
        if (!msg)
          throw new DataError(`DLQ entry ${r.id} refers to message ${r.m}, which no earlier record defines`);
        this.#user(r.u).dlq.set(r.id, { dlqId: r.id, msg, time: r.t, outcome: loadOutcome(r.o) });
        return;
      }
      case "s": {
        const user = this.#user(r.u);
        const s = new Schedule(r.id, user, r.d, this.#config(r.c), r.b, r.cron, r.ca, r.ip);
        s.paused = r.pa === 1;
        s.lastScheduleTime = r.lt;
        s.nextScheduleTime = r.ns;
        s.lastStates = r.ls ?? {};
        user.schedules.set(r.id, s);
        return;
      }
      case "q": {
        const q = this.#queue(this.#user(r.u), r.n, r.ca);
        q.parallelism = r.par;
        q.paused = r.pa === 1;
        q.updatedAt = r.ua;
        return;
      }
      case "g":
        this.#user(r.u).groups.set(r.n, { name: r.n, createdAt: r.ca, updatedAt: r.ua, endpoints: r.e });
        return;
      case "f": {
        const fk = this.#flow(this.#user(r.u), r.key);
        fk.parallelism = r.par;
        fk.rate = r.rate;
        fk.period = r.per;
        fk.pinnedParallelism = r.pp === 1;
        fk.pinnedRate = r.pr === 1;
        fk.paused = r.pa === 1;
        return;
      }
      case "x":
        this.#user(r.u).dedup.set(r.key, { messageId: r.id, expires: r.exp });
        return;
      case "d-":
        this.#user(r.u).dlq.delete(r.key);
        return;
      case "s-":
        this.#user(r.u).schedules.delete(r.key);
        return;
      case "q-":
        this.#user(r.u).queues.delete(r.key);
        return;
      case "g-":
        this.#user(r.u).groups.delete(r.key);
        return;
      case "x-":
        this.#user(r.u).dedup.delete(r.key);
        return;
      default:
        throw new DataError(`unknown record kind ${JSON.stringify((r as { k?: unknown }).k)}`);
    }
  }

  /** Links callbacks to their source messages; returns the live messages in acceptance order. */
  finish(): Message[] {
    for (const [msg, parentId] of this.#parentOf) {
      const parent = this.#all.get(parentId);
      if (!parent) continue;
      msg.parent = parent;
      if (msg.phase !== "done") parent.pendingChildren++;
    }
    const live: Message[] = [];
    for (const user of this.#users.values()) for (const msg of user.messages.values()) live.push(msg);
    live.sort((a, b) => a.order - b.order);
    return live;
  }

  /** Final messages that still hold a queue slot: their callbacks are pending. */
  *slotHolders(): Iterable<Message> {
    for (const msg of this.#parentOf.keys()) {
      const parent = msg.parent;
      if (parent?.phase === "done" && parent.holdsQueueSlot && parent.pendingChildren > 0) yield parent;
    }
  }
}
