import type { Filter } from "../engine/filters.js";
import type { View } from "./context.js";
import { type Html, html } from "./html.js";

/** The query fields the list pages filter by, as the forms name them. */
export interface FilterFields {
  job?: string;
  url?: string;
  state?: string;
  label?: string;
  queue?: string;
  status?: string;
  from?: string;
  to?: string;
  id?: string;
}

/** The filter fields present in the request's query. */
export function readFields(view: View, names: readonly (keyof FilterFields)[]): FilterFields {
  const out: FilterFields = {};
  for (const name of names) {
    const value = view.url.searchParams.get(name)?.trim();
    if (value) out[name] = value;
  }
  return out;
}

/**
 * The engine filter for these fields. A job stands for its URL; times are read as UTC, as the
 * console shows them. Returns undefined when a field cannot match anything (an unknown job).
 */
export function engineFilter(view: View, f: FilterFields): Filter | undefined {
  const filter: Filter = new Map();
  if (f.job) {
    const job = view.registry.job(f.job);
    const url = job && view.registry.urlOf(job);
    if (!url) return undefined;
    filter.set("url", [url]);
  }
  if (f.label) filter.set("label", [f.label]);
  if (f.queue) filter.set("queueName", [f.queue]);
  if (f.status) filter.set("responseStatus", [f.status]);
  if (f.id) filter.set("messageId", [f.id]);
  const from = f.from && utcMillis(f.from);
  const to = f.to && utcMillis(f.to, true);
  if (from) filter.set("fromDate", [String(from)]);
  if (to) filter.set("toDate", [String(to)]);
  return filter;
}

/** `2026-12-01T12:00` (a datetime-local value) as UTC milliseconds; `end` takes the minute's end. */
function utcMillis(value: string, end = false): number | undefined {
  const ms = Date.parse(/Z$|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(ms)) return undefined;
  return end && /T\d\d:\d\d$/.test(value) ? ms + 59_999 : ms;
}

/** The query string of these fields (and more), for links that keep the filter. */
export function queryOf(fields: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Hidden inputs carrying the filter, for the bulk actions' forms. */
export function hiddenFields(fields: FilterFields): Html[] {
  return Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
}

/** A labelled text input (the label beside it, not around it: its name is the label alone). */
export function textField(name: string, label: string, value: string | undefined, extra?: Html): Html {
  return html`<div class="field"><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" value="${value ?? ""}"${extra ?? ""}></div>`;
}

/** A labelled select; the first choice is "any". */
export function selectField(
  name: string,
  label: string,
  value: string | undefined,
  choices: readonly (readonly [string, string])[],
): Html {
  return html`<div class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"><option value="">any</option>${choices.map(
    ([v, text]) => html`<option value="${v}"${v === value ? html` selected` : ""}>${text}</option>`,
  )}</select></div>`;
}

/** The job choices of the registry. */
export function jobChoices(view: View): [string, string][] {
  return view.registry.jobs.map((j) => [j.id, j.id]);
}

/** A datetime-local pair for a time range, read as UTC. */
export function rangeFields(f: FilterFields): Html {
  return html`<div class="field"><label for="f-from">From (UTC)</label><input id="f-from" type="datetime-local" name="from" value="${f.from ?? ""}"></div>
<div class="field"><label for="f-to">To (UTC)</label><input id="f-to" type="datetime-local" name="to" value="${f.to ?? ""}"></div>`;
}
