import type { DlqEntry, LogEntry, Message } from "./model.js";

/** Query-style filters: each field may hold several values (OR), fields combine with AND. */
export type Filter = Map<string, string[]>;

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

/** The filters every listing shares (bulk cancel, DLQ, logs). `time` is what fromDate/toDate compare. */
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

/** What QStash's `state=IN_PROGRESS` filter covers. */
const IN_PROGRESS = new Set(["ACTIVE", "RETRY", "ERROR"]);

export function logMatches(e: LogEntry, f: Filter): boolean {
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

export function dlqMatches(e: DlqEntry, f: Filter): boolean {
  return (
    messageMatches(e.msg, f, e.time) && anyOf(f.get("responseStatus"), (v) => Number(v) === e.outcome.status)
  );
}
