import type { LogState, Message } from "../../engine/model.js";
import type { View } from "../context.js";
import {
  engineFilter,
  type FilterFields,
  jobChoices,
  queryOf,
  rangeFields,
  readFields,
  selectField,
  textField,
} from "../filters.js";
import { at, badge, count, STATE_CHOICES } from "../format.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";

/** Rows per page: enough to scan, few enough to paint at once with 100,000 messages. */
const PAGE_SIZE = 50;

const FIELDS = ["job", "url", "state", "label", "queue", "from", "to", "id"] as const;

/** How a message is named in lists: its job, or its URL; a callback says whose. */
export function target(view: View, msg: Message): Html {
  const job = view.registry.jobOf(msg.url);
  const parent = msg.parent;
  if (parent) {
    const which = msg.url === parent.cfg.callback ? "callback" : "failure callback";
    return html`<span class="muted">${which} of</span> <a href="${BASE}/messages/${parent.id}">${parent.id}</a>`;
  }
  if (job) return html`<a href="${BASE}/jobs/${job.id}" class="job">${job.id}</a>`;
  return html`<span class="url">${msg.url}</span>`;
}

/** A table of messages (the Messages page, a job's latest runs). */
export function messageTable(view: View, items: { msg: Message; state: LogState }[], caption: string): Html {
  if (items.length === 0) return html`<p class="empty">No messages.</p>`;
  return html`<table class="list">
<caption class="sr-only">${caption}</caption>
<thead><tr><th scope="col">Message</th><th scope="col">Job / URL</th><th scope="col">State</th><th scope="col">Created (UTC)</th><th scope="col">Retried</th><th scope="col">Queue</th><th scope="col">Label</th></tr></thead>
<tbody>${items.map(
    ({ msg, state }) => html`<tr data-message="${msg.id}">
<td><a class="id" href="${BASE}/messages/${msg.id}">${msg.id}</a></td>
<td>${target(view, msg)}</td>
<td>${badge(state)}</td>
<td>${at(msg.createdAt)}</td>
<td>${msg.retried}/${msg.cfg.retries}</td>
<td>${msg.queue?.name ?? ""}</td>
<td>${msg.cfg.labels?.join(", ") ?? ""}</td>
</tr>`,
  )}</tbody></table>`;
}

/** The Messages page: filters, then the newest matches, paged; refreshed live. */
export function messagesPage(view: View): { title: string; content: Html; redirect?: string } {
  const f = readFields(view, FIELDS);
  // Lookup by id: a known message opens its own page.
  if (f.id && !view.url.searchParams.has("cursor")) {
    const found = view.engine.messages.find(view.user, f.id);
    if (found && Object.keys(f).length === 1)
      return { title: "", content: html``, redirect: `${BASE}/messages/${f.id}` };
  }
  const filter = engineFilter(view, f);
  const states = f.state ? (f.state.split(",") as LogState[]) : undefined;
  const cursor = view.url.searchParams.get("cursor") ?? undefined;
  const page = filter
    ? view.engine.messages.list(view.user, {
        filter,
        states,
        urlContains: f.url,
        count: PAGE_SIZE,
        cursor,
      })
    : { items: [], total: 0, cursor: undefined };
  const content = html`${filterForm(view, f)}
<section id="messages-list" data-live aria-label="Messages">
<p class="summary">${count(page.total)} ${page.total === 1 ? "message" : "messages"}${
    page.total > page.items.length ? `, newest ${count(page.items.length)} shown` : ""
  }${cursor ? " (older page)" : ""}.</p>
${messageTable(view, page.items, "Messages, newest first")}
<nav class="pager" aria-label="Pages">${cursor && html`<a href="${BASE}/messages${queryOf({ ...f })}">Newest</a>`}${
    page.cursor &&
    html`<a href="${BASE}/messages${queryOf({ ...f, cursor: page.cursor })}" rel="next">Older</a>`
  }</nav>
</section>`;
  return { title: "Messages", content };
}

function filterForm(view: View, f: FilterFields): Html {
  const queues = [...view.user.queues.keys()].map((q) => [q, q] as const);
  return html`<form class="filters" method="get" action="${BASE}/messages" role="search" aria-label="Filter messages" data-filter>
${textField("id", "Message id", f.id, html` placeholder="msg_…" autocomplete="off"`)}
${view.registry.jobs.length ? selectField("job", "Job", f.job, jobChoices(view)) : ""}
${textField("url", "URL contains", f.url)}
${selectField("state", "State", f.state, STATE_CHOICES)}
${textField("label", "Label", f.label)}
${queues.length ? selectField("queue", "Queue", f.queue, queues) : textField("queue", "Queue", f.queue)}
${rangeFields(f)}
<div class="buttons"><button type="submit">Filter</button> <a href="${BASE}/messages">Clear</a></div>
</form>`;
}
