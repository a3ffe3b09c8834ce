import type { DlqEntry } from "../../engine/model.js";
import { bodyBytes } from "../../engine/model.js";
import { responseReason } from "../../engine/reason.js";
import type { View } from "../context.js";
import {
  engineFilter,
  type FilterFields,
  hiddenFields,
  jobChoices,
  queryOf,
  rangeFields,
  readFields,
  selectField,
  textField,
} from "../filters.js";
import { at, bodyBlock, count, decodeBody } from "../format.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";
import type { Issue } from "../registry.js";
import { issueList } from "./jobs.js";
import { target } from "./messages.js";

export const DLQ_FIELDS = ["job", "label", "queue", "status", "from", "to"] as const;
const PAGE = 50;

/** Why it failed: the receiver's error message, else the transport error, else the status. */
function failureReason(e: DlqEntry): string {
  return responseReason(e.outcome.body) ?? e.outcome.error ?? `answered ${e.outcome.status ?? "nothing"}`;
}

/** The DLQ entries matching the page's filter (all of them, for the bulk actions). */
export function dlqSelection(view: View, f: FilterFields, count: number, cursor?: string) {
  const filter = engineFilter(view, f);
  if (!filter) return { entries: [] as DlqEntry[], cursor: undefined, total: 0 };
  const page = view.engine.dlq.page(view.user, { filter, count, cursor, order: "latestFirst" });
  const total =
    cursor || page.cursor
      ? view.engine.dlq.page(view.user, { filter, count: Number.MAX_SAFE_INTEGER }).entries.length
      : page.entries.length;
  return { ...page, total };
}

function actions(e: DlqEntry, back: string, edit = true): Html {
  const path = `${BASE}/dlq/${e.dlqId}`;
  return html`<form method="post" action="${path}/retry" data-action><input type="hidden" name="back" value="${back}"><button type="submit" aria-label="Retry ${e.dlqId}">Retry</button></form>
<form method="post" action="${path}/delete" data-action><input type="hidden" name="back" value="${back}"><button type="submit" class="danger" aria-label="Delete ${e.dlqId}">Delete</button></form>
${edit && html`<a class="button secondary" href="${path}#edit" aria-label="Edit and retry ${e.dlqId}">Edit and retry</a>`}`;
}

/** The dead-letter queue: filters, entries with body, last answer and reason; single and bulk actions. */
export function dlqPage(view: View): { title: string; content: Html } {
  const f = readFields(view, DLQ_FIELDS);
  const cursor = view.url.searchParams.get("cursor") ?? undefined;
  const page = dlqSelection(view, f, PAGE, cursor);
  const back = `${BASE}/dlq${queryOf({ ...f })}`;
  const content = html`<form class="filters" method="get" action="${BASE}/dlq" role="search" aria-label="Filter dead letters" data-filter>
${view.registry.jobs.length ? selectField("job", "Job", f.job, jobChoices(view)) : ""}
${textField("label", "Label", f.label)}
${textField("queue", "Queue", f.queue)}
${textField("status", "Response status", f.status, html` inputmode="numeric"`)}
${rangeFields(f)}
<div class="buttons"><button type="submit">Filter</button> <a href="${BASE}/dlq">Clear</a></div>
</form>
<section id="dlq-list" data-live aria-label="Dead letters">
<p class="summary">${count(page.total)} dead ${page.total === 1 ? "letter" : "letters"}${Object.keys(f).length ? " matching" : ""}.</p>
${
  page.total > 0 &&
  html`<div class="bulk">
<form method="post" action="${BASE}/dlq/retry" data-action>${hiddenFields(f)}<input type="hidden" name="back" value="${back}"><button type="submit">Retry all ${count(page.total)}</button></form>
<form method="post" action="${BASE}/dlq/delete" data-action>${hiddenFields(f)}<input type="hidden" name="back" value="${back}"><button type="submit" class="danger">Delete all ${count(page.total)}</button></form>
</div>`
}
${
  page.entries.length === 0
    ? html`<p class="empty">Nothing here: messages land in the DLQ when they fail for good.</p>`
    : html`<ul class="dead">${page.entries.map(
        (e) => html`<li data-dlq="${e.dlqId}">
<div class="head"><a class="id" href="${BASE}/dlq/${e.dlqId}">${e.dlqId}</a> ${target(view, e.msg)} <span class="badge bad">${e.outcome.status ?? "no response"}</span> <span class="muted">failed ${at(e.time)} UTC · message <a class="id" href="${BASE}/messages/${e.msg.id}">${e.msg.id}</a></span></div>
<p class="error-text">${failureReason(e)}</p>
<details><summary>Body</summary>${bodyBlock(bodyBytes(e.msg.body), 4000)}</details>
<details><summary>Last response</summary>${bodyBlock(e.outcome.body, 4000)}</details>
<div class="actions">${actions(e, back)}</div>
</li>`,
      )}</ul>`
}
<nav class="pager" aria-label="Pages">${cursor && html`<a href="${BASE}/dlq${queryOf({ ...f })}">First page</a>`}${
    page.cursor &&
    html`<a href="${BASE}/dlq${queryOf({ ...f, cursor: page.cursor })}" rel="next">Next page</a>`
  }</nav>
</section>`;
  return { title: "Dead-letter queue", content };
}

/** What the editor shows again after a refused try. */
export interface EditState {
  body?: string;
  issues?: Issue[];
  error?: string;
}

/** One dead letter: everything about it, Retry, Delete, and the Edit and retry editor. */
export function dlqEntryPage(
  view: View,
  dlqId: string,
  state: EditState = {},
): { title: string; content: Html; status?: 404 } {
  const e = view.user.dlq.get(dlqId);
  if (!e) {
    return {
      title: "Dead letter not found",
      status: 404,
      content: html`<p class="error" role="alert">No dead letter <code>${dlqId}</code> for ${view.user.userId}: retried, deleted, or never there.</p><p><a href="${BASE}/dlq">Dead-letter queue</a></p>`,
    };
  }
  const job = view.registry.jobOf(e.msg.url);
  const decoded = decodeBody(bodyBytes(e.msg.body));
  const body = state.body ?? (decoded.kind === "base64" ? "" : decoded.text);
  const content = html`<dl class="facts">
<dt>DLQ id</dt><dd><code class="id">${e.dlqId}</code></dd>
<dt>Message</dt><dd><a class="id" href="${BASE}/messages/${e.msg.id}">${e.msg.id}</a></dd>
<dt>Job / URL</dt><dd>${target(view, e.msg)} <span class="url muted">${e.msg.url}</span></dd>
<dt>Failed (UTC)</dt><dd>${at(e.time)}</dd>
<dt>Last status</dt><dd>${e.outcome.status ?? "no response"}</dd>
<dt>Reason</dt><dd class="error-text">${failureReason(e)}</dd>
<dt>Retried</dt><dd>${e.msg.retried} of ${e.msg.cfg.retries}</dd>
</dl>
<div class="actions">${actions(e, `${BASE}/dlq`, false)}</div>
<h2>Body</h2>
${bodyBlock(bodyBytes(e.msg.body))}
<h2>Last response</h2>
${bodyBlock(e.outcome.body)}
<h2 id="edit">Edit and retry</h2>
<p>${job ? html`The body is checked against the input schema of <a class="job" href="${BASE}/jobs/${job.id}">${job.id}</a>, then published as a new message as <code>jobs.trigger</code> would publish it, with the job's current options (as <code>jobstash dlq replay</code> does); the dead letter is removed.` : html`No job of the registry receives this URL, so the body is sent as it is, as a new message with this one's settings; the dead letter is removed.`}</p>
<form id="edit-form" method="post" action="${BASE}/dlq/${e.dlqId}/edit" data-trigger${job ? html` data-validate="${BASE}/jobs/${job.id}/validate"` : ""}>
<label for="edit-body">Body${job ? " (JSON)" : ""}</label>
<textarea id="edit-body" name="body" rows="${Math.min(24, Math.max(4, body.split("\n").length + 1))}" spellcheck="false" aria-describedby="edit-issues">${body}</textarea>
${issueList("edit-issues", state.issues, state.error)}
<div class="buttons"><button type="submit">Edit and retry</button></div>
<p id="trigger-result" role="status" aria-live="polite"></p>
</form>`;
  return { title: `Dead letter ${e.dlqId}`, content };
}
