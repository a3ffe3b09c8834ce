import type { Message, UserState } from "../dev-server/engine/model.js";
import type { PendingMessage } from "./errors.js";
import type { Records } from "./records.js";

const iso = (ms: number) => new Date(ms).toISOString();

/** Every message not yet final, and why it has not been delivered, for `drain`'s errors. */
export function pendingMessages(user: UserState, records: Records): PendingMessage[] {
  const out: PendingMessage[] = [];
  for (const msg of user.messages.values()) {
    if (msg.phase === "done") continue;
    const dueAt = msg.phase === "delayed" ? msg.notBefore : msg.phase === "retry" ? msg.at : undefined;
    out.push({
      messageId: msg.id,
      ...records.describe(msg),
      state: msg.phase,
      reason: reason(msg),
      ...(dueAt !== undefined && { dueAt: new Date(dueAt) }),
    });
  }
  return out;
}

function reason(msg: Message): string {
  switch (msg.phase) {
    case "delayed":
      return `delayed until ${iso(msg.notBefore)}`;
    case "retry":
      return `retry ${msg.retried} of ${msg.cfg.retries} due at ${iso(msg.at)}`;
    case "active":
      return "in flight";
    default:
      return waiting(msg);
  }
}

function waiting(msg: Message): string {
  const q = msg.queue;
  if (q && !msg.holdsQueueSlot) {
    return q.paused
      ? `waiting in queue "${q.name}", which is paused`
      : `waiting in queue "${q.name}" for one of its ${q.parallelism} slot(s), held by earlier messages`;
  }
  const fk = msg.flow;
  if (!fk) return "waiting";
  const key = `flow-control key "${fk.key}"`;
  if (fk.paused) return `waiting for ${key}, which is paused`;
  if (fk.parallelism !== undefined && fk.active >= fk.parallelism) {
    return `waiting for ${key}: ${fk.active} of ${fk.parallelism} in flight`;
  }
  if (fk.rate !== undefined) {
    return `waiting for ${key}: ${fk.rate} per ${fk.period}s used up until ${iso(fk.periodStart + fk.period * 1000)}`;
  }
  return `waiting for ${key}`;
}

/**
 * Whether anything pending can still move without the test's help: a message with a due time
 * (delay, retry), one in flight, or a rate window that reopens. Otherwise what waits is held
 * by a paused queue or flow-control key, and only the test can release it.
 */
export function canMove(user: UserState): boolean {
  for (const msg of user.messages.values()) {
    if (msg.phase === "delayed" || msg.phase === "retry" || msg.phase === "active") return true;
  }
  for (const fk of user.flow.values()) if (fk.heapIndex >= 0) return true;
  return false;
}
