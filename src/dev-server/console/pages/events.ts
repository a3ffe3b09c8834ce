import type { LogState } from "../../engine/model.js";
import { responseReason } from "../../engine/reason.js";
import type { View } from "../context.js";
import { engineFilter, jobChoices, readFields, selectField, textField } from "../filters.js";
import { at, count } from "../format.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";
import { target } from "./messages.js";

const STATES: LogState[] = [
  "CREATED",
  "ACTIVE",
  "DELIVERED",
  "ERROR",
  "RETRY",
  "FAILED",
  "CANCEL_REQUESTED",
  "CANCELLED",
];

/** Events shown at once; the newest first. */
const SHOWN = 200;

/** The lifecycle events the CLI prints, newest first, filterable; refreshed live. */
export function eventsPage(view: View): { title: string; content: Html } {
  const f = readFields(view, ["job", "state", "id"]);
  const filter = engineFilter(view, { job: f.job, id: f.id });
  if (filter && f.state) filter.set("state", [f.state]);
  const entries = filter ? view.engine.events.query(view.user, { filter, count: SHOWN }).entries : [];
  const content = html`<form class="filters" method="get" action="${BASE}/events" role="search" aria-label="Filter events" data-filter>
${textField("id", "Message id", f.id, html` placeholder="msg_…" autocomplete="off"`)}
${view.registry.jobs.length ? selectField("job", "Job", f.job, jobChoices(view)) : ""}
${selectField(
  "state",
  "Event",
  f.state,
  STATES.map((s) => [s, s] as const),
)}
<div class="buttons"><button type="submit">Filter</button> <a href="${BASE}/events">Clear</a></div>
</form>
<section id="events-list" data-live aria-label="Events">
<p class="summary">${entries.length === SHOWN ? `The newest ${count(SHOWN)} events.` : `${count(entries.length)} ${entries.length === 1 ? "event" : "events"}.`}</p>
${
  entries.length === 0
    ? html`<p class="empty">No events yet.</p>`
    : html`<table class="list compact"><caption class="sr-only">Events, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Message</th><th scope="col">Job / URL</th><th scope="col">Detail</th></tr></thead>
<tbody>${entries.map((e) => {
        const reason =
          e.state === "ERROR" || e.state === "FAILED" ? responseReason(e.responseBody) : undefined;
        const detail = [
          e.responseStatus !== undefined && String(e.responseStatus),
          e.error,
          e.nextDeliveryTime !== undefined &&
            `next at ${new Date(e.nextDeliveryTime).toISOString().slice(11, 19)}`,
          reason && reason !== e.error && reason,
        ]
          .filter(Boolean)
          .join(" · ");
        return html`<tr><td>${at(e.time)}</td><td><code>${e.state}</code></td><td><a class="id" href="${BASE}/messages/${e.msg.id}">${e.msg.id}</a></td><td>${target(view, e.msg)}</td><td>${detail}</td></tr>`;
      })}</tbody></table>`
}
</section>`;
  return { title: "Events", content };
}
