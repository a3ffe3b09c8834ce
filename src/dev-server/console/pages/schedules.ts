import { splitCronZone } from "../../../protocol.js";
import type { Schedule } from "../../engine/model.js";
import type { View } from "../context.js";
import { at } from "../format.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";
import { nextFires } from "./jobs.js";

/** The last run: when, and how its messages ended (one per endpoint of a URL group). */
function lastRun(s: Schedule): Html {
  if (s.lastScheduleTime === undefined) return html`<span class="muted">never</span>`;
  const states = Object.entries(s.lastStates);
  return html`${at(s.lastScheduleTime)}${states.map(
    ([id, state]) =>
      html`<br><a class="id" href="${BASE}/messages/${id}">${id}</a> <span class="badge ${state === "SUCCESS" ? "ok" : state === "FAIL" ? "bad" : "busy"}">${state.toLowerCase().replace("_", " ")}</span>`,
  )}`;
}

function destination(view: View, s: Schedule): Html {
  const job = view.registry.jobOf(s.destination);
  return job
    ? html`<a class="job" href="${BASE}/jobs/${job.id}">${job.id}</a>`
    : html`<span class="url">${s.destination}</span>`;
}

/** The Schedules page: every schedule of the user, with Pause, Resume and Run now. */
export function schedulesPage(view: View): { title: string; content: Html } {
  const schedules = view.engine.schedules.list(view.user);
  const content = html`<section id="schedules" data-live aria-label="Schedules">${
    schedules.length === 0
      ? html`<p class="empty">No schedules. <code>jobstash dev</code> syncs the registry's schedules on start; the QStash API creates others.</p>`
      : html`<table class="list"><caption class="sr-only">Schedules</caption>
<thead><tr><th scope="col">Schedule</th><th scope="col">Destination</th><th scope="col">Cron</th><th scope="col">Zone</th><th scope="col">Next fire times</th><th scope="col">Last run (UTC)</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
<tbody>${schedules.map((s) => {
          const { cron, tz } = splitCronZone(s.cron);
          const path = `${BASE}/schedules/${encodeURIComponent(s.id)}`;
          return html`<tr data-schedule="${s.id}">
<td><code class="id">${s.id}</code></td>
<td>${destination(view, s)}</td>
<td><code class="cron">${cron}</code></td>
<td>${tz}</td>
<td class="fires">${s.paused ? html`<span class="muted">paused</span>` : nextFires(cron, tz, view.now).map((t, i) => html`${i ? html`<br>` : ""}${t}`)}</td>
<td>${lastRun(s)}</td>
<td>${s.paused ? html`<span class="badge mute">paused</span>` : html`<span class="badge ok">active</span>`}</td>
<td><div class="actions">
<form method="post" action="${path}/${s.paused ? "resume" : "pause"}" data-action><button type="submit" id="schedule-${s.id}-toggle" class="secondary" aria-label="${s.paused ? "Resume" : "Pause"} ${s.id}">${s.paused ? "Resume" : "Pause"}</button></form>
<form method="post" action="${path}/run" data-action><button type="submit" id="schedule-${s.id}-run" aria-label="Run now ${s.id}">Run now</button></form>
</div></td>
</tr>`;
        })}</tbody></table>`
  }</section>`;
  return { title: "Schedules", content };
}
