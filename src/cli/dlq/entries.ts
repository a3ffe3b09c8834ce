import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { AnyJob } from "jobstash";
import { responseReason } from "../../dev-server/engine/reason.js";
import { type DlqMessage, getDlq, listDlq } from "../api.js";
import { InputError } from "../errors.js";
import { checkInput, issuesJson } from "../input.js";
import type { Ops } from "../ops.js";

/** What a DLQ entry is: a job's message, one of its callbacks, or a message of another app. */
export type EntryKind = "job" | "callback" | "failureCallback" | "foreign";

/** A DLQ entry read with the registry: its job, its body decoded and checked against the job's schema. */
export interface DecodedEntry {
  entry: DlqMessage;
  kind: EntryKind;
  jobId?: string;
  job?: AnyJob;
  /** When it failed for good (ms): from the DLQ id (`<ms>-<n>`), else when it was created. */
  failedAt: number;
  /** The body as text (UTF-8). */
  body: string | undefined;
  /** The body parsed as JSON; `undefined` when empty or not JSON (see `notJson`). */
  input: unknown;
  notJson: boolean;
  /** Whether the input fits the job's current schema; null when there is nothing to check it against. */
  fits: boolean | null;
  issues?: readonly StandardSchemaV1.Issue[];
  /** Why the last attempt failed, on one line (the receiver's message, or an excerpt). */
  reason: string | undefined;
}

/** Largest page of the DLQ QStash serves. */
export const DLQ_PAGE = 100;

/** Decode an entry: find its job from its URL (`<baseUrl>/<jobId>`) and check its body. */
export async function decodeEntry(ops: Ops, entry: DlqMessage): Promise<DecodedEntry> {
  const { jobId, job, marker } = ops.jobOf(entry.url);
  const kind: EntryKind =
    jobId === undefined
      ? "foreign"
      : marker === "success"
        ? "callback"
        : marker === "failure"
          ? "failureCallback"
          : "job";
  const body =
    entry.body ?? (entry.bodyBase64 ? Buffer.from(entry.bodyBase64, "base64").toString("utf8") : undefined);
  let input: unknown;
  let notJson = false;
  if (body) {
    try {
      input = JSON.parse(body);
    } catch {
      notJson = true;
    }
  }
  let fits: boolean | null = null;
  let issues: readonly StandardSchemaV1.Issue[] | undefined;
  if (kind === "job" && job) {
    if (notJson) fits = false;
    else {
      const checked = await checkInput(job, input);
      fits = checked.ok;
      if (!checked.ok) issues = checked.issues;
    }
  }
  const response =
    entry.responseBody !== undefined
      ? Buffer.from(entry.responseBody)
      : entry.responseBodyBase64
        ? Buffer.from(entry.responseBodyBase64, "base64")
        : undefined;
  const failedAt = /^\d{10,}-\d+$/.test(entry.dlqId)
    ? Number(entry.dlqId.split("-")[0])
    : (entry.createdAt ?? 0);
  return {
    entry,
    kind,
    jobId,
    job,
    failedAt,
    body,
    input,
    notJson,
    fits,
    issues,
    reason: responseReason(response) ?? entry.error,
  };
}

/** The `--json` form of a decoded entry (in `dlq list`; `dlq show` adds the bodies). */
export function entryJson(d: DecodedEntry) {
  return {
    dlqId: d.entry.dlqId,
    messageId: d.entry.messageId,
    jobId: d.jobId ?? null,
    kind: d.kind,
    url: d.entry.url,
    failedAt: new Date(d.failedAt).toISOString(),
    status: d.entry.responseStatus ?? null,
    reason: d.reason ?? null,
    fits: d.fits,
    ...(d.issues && { issues: issuesJson(d.issues) }),
  };
}

/**
 * Every entry matching `filter`, paging through QStash's cursor, 100 at a time;
 * `onPage` sees the count so far.
 */
export async function listAll(
  ops: Ops,
  filter: Record<string, string | number | readonly string[] | undefined>,
  onPage?: (count: number) => void,
): Promise<DlqMessage[]> {
  const out: DlqMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await ops.api((q) => listDlq(q, { count: DLQ_PAGE, filter, cursor }));
    out.push(...page.messages);
    cursor = page.cursor;
    onPage?.(out.length);
  } while (cursor);
  return out;
}

/** The entries of these ids, all of them, or an InputError naming the ones QStash does not have (exit 2). */
export async function entriesOf(ops: Ops, ids: readonly string[]): Promise<DlqMessage[]> {
  const found = new Map<string, DlqMessage>();
  for (let i = 0; i < ids.length; i += DLQ_PAGE) {
    const chunk = ids.slice(i, i + DLQ_PAGE);
    for (const entry of await ops.api((q) => getDlq(q, chunk))) found.set(entry.dlqId, entry);
  }
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length) {
    const shown = unknown.slice(0, 5).map((id) => JSON.stringify(id));
    throw new InputError(
      `no DLQ entr${unknown.length === 1 ? "y" : "ies"} ${shown.join(", ")}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ""} in QStash at ${ops.qstash().url}; \`jobstash dlq list\` shows the ids (nothing was changed)`,
    );
  }
  return ids.map((id) => found.get(id)!);
}

/** The filter of `--job` and `--since`, as QStash's DLQ takes it. */
export function dlqFilter(ops: Ops, values: { job?: string; since?: number }) {
  if (values.job !== undefined && ops.registry) ops.job(values.job);
  return {
    ...(values.job !== undefined && { url: ops.jobUrls(values.job) }),
    ...(values.since !== undefined && { fromDate: values.since }),
  };
}
