import type { MessageConfig } from "../message-config.js";
import type { LogEntry, Message, UserState } from "../model.js";
import {
  dlqRecord,
  doneRecord,
  flowRecord,
  groupRecord,
  logRecord,
  messageLine,
  messageState,
  queueRecord,
  type Record,
  scheduleRecord,
  storeConfig,
  userRecord,
} from "./records.js";
import type { Kind } from "./store.js";

/**
 * What changed since the last flush, and the journal lines that state it. Entities are read
 * when the lines are written, not when they are marked, so a message accepted and delivered
 * between two flushes is one record.
 */
export class Changes {
  #created = new Set<Message>();
  #changed = new Set<Message>();
  #logs: LogEntry[] = [];
  #touched = new Map<string, [UserState, Kind, string]>();
  #configIds = new WeakMap<MessageConfig, number>();
  /** The id the next config written gets; past every id the directory already holds. */
  nextConfigId = 0;

  created(msg: Message): void {
    this.#created.add(msg);
  }

  changed(msg: Message): void {
    if (!this.#created.has(msg)) this.#changed.add(msg);
  }

  logged(entry: LogEntry): void {
    this.#logs.push(entry);
  }

  touched(user: UserState, kind: Kind, key: string): void {
    this.#touched.set(`${user.userId}\0${kind}\0${key}`, [user, kind, key]);
  }

  get any(): boolean {
    return (
      this.#created.size > 0 || this.#changed.size > 0 || this.#logs.length > 0 || this.#touched.size > 0
    );
  }

  /** A new journal defines the configs it uses itself. */
  newJournal(): void {
    this.#configIds = new WeakMap();
  }

  /**
   * The marked state as lines, clearing the marks, and the bodies (offset, length in bytes)
   * of the messages `releasable` picks, which memory may let go of once the lines are synced.
   */
  take(releasable: (msg: Message) => boolean): { text: string; release: [Message, number, number][] } {
    let out = "";
    // Bytes so far, counted while message lines are added: only they hold bodies.
    let bytes = 0;
    const release: [Message, number, number][] = [];
    const line = (r: Record) => {
      const text = `${JSON.stringify(r)}\n`;
      out += text;
      bytes += Buffer.byteLength(text);
    };
    for (const msg of this.#created) {
      const { line: text, body } = messageLine(msg, this.#configId(msg.cfg, line));
      if (body && releasable(msg)) release.push([msg, bytes + body.at, body.length]);
      out += text;
      bytes += Buffer.byteLength(text);
      if (msg.phase === "done") line(doneRecord(msg));
    }
    for (const msg of this.#changed) {
      line(
        msg.phase === "done"
          ? doneRecord(msg)
          : { k: "ms", u: msg.user.userId, id: msg.id, ...messageState(msg) },
      );
    }
    for (const entry of this.#logs) line(logRecord(entry));
    for (const [user, kind, key] of this.#touched.values()) line(this.#resource(user, kind, key, line));
    this.#created.clear();
    this.#changed.clear();
    this.#logs = [];
    this.#touched.clear();
    return { text: out, release };
  }

  /** The id a message or schedule refers to its config by; the config is written the first time. */
  #configId(cfg: MessageConfig, line: (r: Record) => void): number {
    let id = this.#configIds.get(cfg);
    if (id === undefined) {
      id = this.nextConfigId++;
      this.#configIds.set(cfg, id);
      line({ k: "c", id, c: storeConfig(cfg) });
    }
    return id;
  }

  /** What `user` holds under `key` now, or its deletion. */
  #resource(user: UserState, kind: Kind, key: string, line: (r: Record) => void): Record {
    const u = user.userId;
    switch (kind) {
      case "keys":
        return userRecord(user);
      case "schedule": {
        const s = user.schedules.get(key);
        return s ? scheduleRecord(s, this.#configId(s.cfg, line)) : { k: "s-", u, key };
      }
      case "queue": {
        const q = user.queues.get(key);
        return q ? queueRecord(user, q) : { k: "q-", u, key };
      }
      case "group": {
        const g = user.groups.get(key);
        return g ? groupRecord(user, g) : { k: "g-", u, key };
      }
      case "flow":
        return flowRecord(user, user.flow.get(key)!);
      case "dlq": {
        const e = user.dlq.get(key);
        return e ? dlqRecord(user, e) : { k: "d-", u, key };
      }
      case "dedup": {
        const d = user.dedup.get(key);
        return d ? { k: "x", u, key, id: d.messageId, exp: d.expires } : { k: "x-", u, key };
      }
    }
  }
}
