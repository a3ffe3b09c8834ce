import { open, rename } from "node:fs/promises";
import { join } from "node:path";
import type { MessageConfig } from "../message-config.js";
import type { Message, UserState } from "../model.js";
import {
  dlqRecord,
  flowRecord,
  groupRecord,
  logRecord,
  messageLine,
  queueRecord,
  type Record,
  scheduleRecord,
  storeConfig,
  userRecord,
} from "./records.js";

export interface SnapshotOptions {
  dir: string;
  /** The number of the journal that continues from this snapshot. */
  number: number;
  users: readonly UserState[];
  maxLogs: number;
  header: string;
  /** Makes the journal durable up to now, so it is never older than the snapshot. */
  flushJournal: () => Promise<void>;
}

/** Bytes gathered before a write: big enough to be cheap, small enough to keep the engine responsive. */
const SLICE = 1 << 20;

/** A written snapshot: its size, and where it holds the bodies that were on disk only. */
export interface Snapshot {
  size: number;
  /** Messages whose body is not in memory, with the body's offset and length in the snapshot. */
  bodies: [Message, number, number][];
}

/**
 * Writes the state of `users` as records to `snapshot-<number>.jsonl`, in slices with the event
 * loop free between them, and renames it into place once it is complete and synced.
 */
export async function writeSnapshot(o: SnapshotOptions): Promise<Snapshot> {
  const tmp = join(o.dir, `snapshot-${o.number}.jsonl.tmp`);
  const file = await open(tmp, "w");
  let size = 0;
  const bodies: Snapshot["bodies"] = [];
  try {
    let buffer = o.header;
    // Bytes in `buffer`, so a body's offset in the file is known as its line is added.
    let buffered = Buffer.byteLength(buffer);
    const configIds = new WeakMap<MessageConfig, number>();
    let nextConfigId = 0;
    const add = (text: string) => {
      buffer += text;
      buffered += Buffer.byteLength(text);
    };
    const line = (r: Record) => add(`${JSON.stringify(r)}\n`);
    const configId = (cfg: MessageConfig) => {
      let id = configIds.get(cfg);
      if (id === undefined) {
        id = nextConfigId++;
        configIds.set(cfg, id);
        line({ k: "c", id, c: storeConfig(cfg) });
      }
      return id;
    };
    const slice = async (force = false) => {
      if (!force && buffer.length < SLICE) return;
      const data = Buffer.from(buffer);
      buffer = "";
      buffered = 0;
      await file.write(data);
      size += data.length;
    };

    // References are taken now; each entity's state is read when its slice is written.
    const parts = o.users.map((user) => ({
      user,
      messages: messagesOf(user),
      logs: user.logs.slice(-o.maxLogs),
      dlq: [...user.dlq.values()],
      schedules: [...user.schedules.values()],
      queues: [...user.queues.values()],
      groups: [...user.groups.values()],
      flows: [...user.flow.values()],
      dedup: [...user.dedup],
    }));
    for (const p of parts) {
      const u = p.user.userId;
      line(userRecord(p.user));
      for (const q of p.queues) line(queueRecord(p.user, q));
      for (const fk of p.flows) line(flowRecord(p.user, fk));
      for (const g of p.groups) line(groupRecord(p.user, g));
      for (const msg of p.messages) {
        const { line: text, body } = messageLine(msg, configId(msg.cfg));
        if (body && msg.bodyOnDisk) bodies.push([msg, size + buffered + body.at, body.length]);
        add(text);
        await slice();
      }
      for (const e of p.logs) {
        line(logRecord(e));
        await slice();
      }
      for (const e of p.dlq) line(dlqRecord(p.user, e));
      for (const s of p.schedules) line(scheduleRecord(s, configId(s.cfg)));
      for (const [key, d] of p.dedup) line({ k: "x", u, key, id: d.messageId, exp: d.expires });
      await slice();
    }
    await slice(true);
    await o.flushJournal();
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(o.dir, `snapshot-${o.number}.jsonl`));
  await syncDir(o.dir);
  return { size, bodies };
}

/**
 * Live messages, the final ones the DLQ and the logs still show (every log entry in memory, not
 * only those the snapshot keeps: their bodies may be read until they are trimmed), and the
 * sources of pending callbacks.
 */
function messagesOf(user: UserState): Set<Message> {
  const out = new Set<Message>();
  for (const msg of user.messages.values()) {
    out.add(msg);
    for (let p = msg.parent; p && !out.has(p); p = p.parent) out.add(p);
  }
  for (const e of user.dlq.values()) out.add(e.msg);
  for (const e of user.logs) out.add(e.msg);
  return out;
}

/** Makes a rename durable where the platform allows syncing a directory (not on Windows). */
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Windows cannot open a directory for syncing; its renames are durable on their own.
  } finally {
    await handle?.close();
  }
}
