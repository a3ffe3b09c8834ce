import type { Context } from "hono";
import type { AnyJob } from "../../job/types.js";
import type { TriggerOptions } from "../../jobstash.js";
import { DevServerError } from "../engine/errors.js";
import { callerIp } from "../routes/context.js";
import type { View } from "./context.js";
import { DLQ_FIELDS, dlqSelection } from "./pages/dlq.js";
import type { Issue } from "./registry.js";

/** What an action answers the console's script with (a plain form post gets a redirect instead). */
export interface ActionResult {
  notice?: string;
  /** Where to go next (a message that was just made). */
  location?: string;
  issues?: Issue[];
  error?: string;
}

/** Form fields as strings (the console's forms have no files). */
export type Form = Record<string, string>;

export async function formOf(c: Context): Promise<Form> {
  const body = await c.req.parseBody();
  const out: Form = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/** JSON text to a value, or the issue that says why it is not JSON. */
export function parseJson(text: string): { value: unknown } | { issues: Issue[] } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { issues: [{ path: "", message: `not valid JSON: ${(error as Error).message}` }] };
  }
}

/** `10`, `"10s"`: a duration option as trigger takes it (a bare number is seconds). */
function duration(text: string | undefined): string | number | undefined {
  const t = text?.trim();
  if (!t) return undefined;
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

/** The Trigger form's options as `TriggerOptions`; trigger's own checks judge them after. */
function triggerOptions(form: Form): TriggerOptions {
  const o: Record<string, unknown> = {};
  const text = (name: string) => form[name]?.trim() || undefined;
  if (text("retries") !== undefined) o.retries = Number(text("retries"));
  const retryDelay = text("retryDelay");
  if (retryDelay !== undefined) o.retryDelay = /^\d+$/.test(retryDelay) ? Number(retryDelay) : retryDelay;
  for (const name of ["delay", "timeout"]) if (text(name) !== undefined) o[name] = duration(text(name));
  for (const name of ["label", "queue", "deduplicationId"])
    if (text(name) !== undefined) o[name] = text(name);
  const headers = text("headers");
  if (headers) {
    const out: Record<string, string> = {};
    for (const line of headers.split(/\r?\n/)) {
      if (!line.trim()) continue;
      const colon = line.indexOf(":");
      if (colon < 1)
        throw new DevServerError(400, `header line ${JSON.stringify(line)}: write it as "Name: value"`);
      out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    o.headers = out;
  }
  return o as TriggerOptions;
}

/** Triggers a job from the form, as `jobs.trigger` would: validated first, then published. */
export async function trigger(
  c: Context,
  view: View,
  jobId: string,
  form: Form,
): Promise<ActionResult & { messageId?: string }> {
  const job = view.registry.job(jobId);
  if (!job) throw new DevServerError(404, `no job ${JSON.stringify(jobId)} in the registry`);
  const parsed = parseJson(form.input ?? "");
  if ("issues" in parsed) return { issues: parsed.issues };
  const published = await publishAsTrigger(c, view, job, parsed.value, triggerOptions(form));
  if (!("messageId" in published)) return published;
  const { messageId, deduplicated } = published;
  return {
    messageId,
    notice: deduplicated ? `Deduplicated: ${messageId} already has this id` : `Triggered ${messageId}`,
  };
}

/** Publishes `input` as `jobs.trigger(job.id, input, options)` would, or says why not. */
async function publishAsTrigger(
  c: Context,
  view: View,
  job: AnyJob,
  input: unknown,
  options: TriggerOptions,
): Promise<{ messageId: string; deduplicated?: boolean } | ActionResult> {
  let prepared: Awaited<ReturnType<typeof view.registry.prepare>>;
  try {
    prepared = await view.registry.prepare(job, input, options);
  } catch (error) {
    // trigger's own checks (an option, the base URL) speak in ConfigError; say what they say.
    if (error instanceof DevServerError) throw error;
    return { error: (error as Error).message };
  }
  if ("issues" in prepared) return { issues: prepared.issues };
  const r = view.engine.accept.publish(view.user, { ...prepared, callerIp: callerIp(c) });
  return r.result as { messageId: string; deduplicated?: boolean };
}

/**
 * Edit and retry. For a job of the registry, the new input is published as `jobs.trigger` would
 * publish it, as `jobstash dlq replay` does: checked against the schema, with the job's current
 * options, so a flow-control key computed from the input follows the input. Anything else is
 * republished with its own headers and the new body, as QStash's retry does.
 */
export async function editAndRetry(
  c: Context,
  view: View,
  dlqId: string,
  form: Form,
): Promise<ActionResult & { messageId?: string }> {
  const entry = view.engine.dlq.get(view.user, dlqId);
  const job = view.registry.jobOf(entry.msg.url);
  const text = form.body ?? "";
  if (!job) {
    const { messageId } = view.engine.dlq.replay(
      view.user,
      entry,
      text ? Buffer.from(text) : undefined,
      callerIp(c),
    );
    return { messageId, notice: `Retried as ${messageId}` };
  }
  const parsed = parseJson(text);
  if ("issues" in parsed) return { issues: parsed.issues };
  const published = await publishAsTrigger(c, view, job, parsed.value, {});
  if (!("messageId" in published)) return published;
  view.engine.dlq.delete(view.user, [entry]);
  return { messageId: published.messageId, notice: `Retried as ${published.messageId}` };
}

/** Bulk Retry and Delete act on every entry the DLQ page's filter matches. */
export function bulkDlq(c: Context, view: View, form: Form, what: "retry" | "delete"): ActionResult {
  const fields = Object.fromEntries(DLQ_FIELDS.filter((k) => form[k]).map((k) => [k, form[k]]));
  const { entries } = dlqSelection(view, fields, Number.MAX_SAFE_INTEGER);
  if (what === "delete") {
    const n = view.engine.dlq.delete(view.user, entries);
    return { notice: `Deleted ${n} dead ${n === 1 ? "letter" : "letters"}` };
  }
  const r = view.engine.dlq.retry(view.user, entries, new Map(), callerIp(c));
  return { notice: `Retried ${r.length} dead ${r.length === 1 ? "letter" : "letters"} as new messages` };
}
