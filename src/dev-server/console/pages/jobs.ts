import { jobDefaults } from "../../../job/define.js";
import type { AnyJob } from "../../../job/types.js";
import { DEFAULT_PERIOD_SECONDS } from "../../../protocol.js";
import { formatInZone, nextRuns } from "../../../sync/dst.js";
import type { View } from "../context.js";
import { badge } from "../format.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";
import type { Issue } from "../registry.js";
import { exampleOf, inputJsonSchema } from "../schema.js";
import { messageTable } from "./messages.js";

/** Flow control as declared: fixed limits, or computed from each input. */
function flowText(job: AnyJob): string {
  const fc = job.definition.flowControl;
  if (!fc) return "";
  if (typeof fc === "function") return "from the input";
  return [
    fc.key,
    fc.parallelism !== undefined && `parallelism ${fc.parallelism}`,
    fc.rate !== undefined && `rate ${fc.rate}/${fc.period ?? `${DEFAULT_PERIOD_SECONDS}s`}`,
  ]
    .filter(Boolean)
    .join(", ");
}

/** The next fire times of a cron in its zone, as the sync plan prints them. */
export function nextFires(cron: string, tz: string, now: number): string[] {
  return nextRuns(cron, tz, new Date(now)).map((d) => formatInZone(d, tz));
}

function latest(view: View, job: AnyJob, count: number) {
  const url = view.registry.urlOf(job);
  if (!url) return [];
  return view.engine.messages.list(view.user, { filter: new Map([["url", [url]]]), count }).items;
}

function loadProblem(view: View): Html {
  const { registry } = view;
  if (registry.loadError)
    return html`<p class="error" role="alert">The registry could not be loaded: ${registry.loadError}</p>`;
  if (!registry.app)
    return html`<p class="empty">No registry: start <code>jobstash dev</code> next to a <code>jobstash.config.ts</code> (or pass <code>--config</code>) to see your jobs here. Messages, schedules and the DLQ work without it.</p>`;
  const base = registry.baseUrl();
  return "error" in base ? html`<p class="warning" role="note">${base.error}</p>` : html``;
}

/** The Jobs page: every job of the registry with its settings and its latest run. */
export function jobsPage(view: View): { title: string; content: Html } {
  const jobs = view.registry.jobs;
  const content = html`${loadProblem(view)}
${
  jobs.length > 0 &&
  html`<section id="jobs" data-live aria-label="Jobs"><table class="list">
<caption class="sr-only">Jobs of ${view.registry.app}</caption>
<thead><tr><th scope="col">Job</th><th scope="col">Input schema</th><th scope="col">Retries</th><th scope="col">Timeout</th><th scope="col">Queue</th><th scope="col">Flow control</th><th scope="col">Schedules</th><th scope="col">Latest run</th></tr></thead>
<tbody>${jobs.map((job) => {
    const last = latest(view, job, 1)[0];
    return html`<tr>
<td><a class="job" href="${BASE}/jobs/${job.id}">${job.id}</a></td>
<td>${inputJsonSchema(job) ? "JSON Schema" : "custom"}</td>
<td>${jobDefaults(job).retries}</td>
<td>${job.definition.timeout ?? ""}</td>
<td>${job.definition.queue ?? ""}</td>
<td>${flowText(job)}</td>
<td>${job.schedules.map((s) => html`<code>${s.cron}</code> ${s.tz}<br>`)}</td>
<td>${last ? html`${badge(last.state)} <a class="id" href="${BASE}/messages/${last.msg.id}">${last.msg.id}</a>` : ""}</td>
</tr>`;
  })}</tbody></table></section>`
}`;
  return { title: "Jobs", content };
}

/** What the Trigger form holds after a failed try, to show it again with the problems. */
export interface TriggerState {
  input?: string;
  options?: Record<string, string>;
  issues?: Issue[];
  error?: string;
}

/** A job's page: schema, settings, schedules with their next fire times, latest runs, Trigger. */
export function jobPage(
  view: View,
  id: string,
  state: TriggerState = {},
): { title: string; content: Html; status?: 404 } {
  const job = view.registry.job(id);
  if (!job) {
    return {
      title: "Job not found",
      status: 404,
      content: html`<p class="error" role="alert">No job <code>${id}</code> in the registry.</p><p><a href="${BASE}/jobs">All jobs</a></p>`,
    };
  }
  const schema = inputJsonSchema(job);
  const def = job.definition;
  const content = html`${loadProblem(view)}
<dl class="facts">
<dt>Job id</dt><dd><code class="job">${job.id}</code></dd>
<dt>URL</dt><dd class="url">${view.registry.urlOf(job) ?? "unknown (no base URL)"}</dd>
<dt>Retries</dt><dd>${jobDefaults(job).retries}</dd>
${def.retryDelay !== undefined && html`<dt>Retry delay</dt><dd><code>${String(def.retryDelay)}</code></dd>`}
${def.timeout !== undefined && html`<dt>Timeout</dt><dd>${def.timeout}</dd>`}
${def.delay !== undefined && html`<dt>Delay</dt><dd>${def.delay}</dd>`}
${def.queue && html`<dt>Queue</dt><dd>${def.queue}</dd>`}
${def.flowControl && html`<dt>Flow control</dt><dd>${flowText(job)}</dd>`}
<dt>Label</dt><dd>${def.label ?? job.id}</dd>
<dt>Hooks</dt><dd>${[def.onSuccess && "onSuccess", def.onFailure && "onFailure"].filter(Boolean).join(", ") || "none"}</dd>
</dl>
<h2>Input schema</h2>
${schema ? html`<details><summary>JSON Schema</summary><pre class="body">${JSON.stringify(schema, null, 2)}</pre></details>` : html`<p>custom <span class="muted">(the schema library offers no JSON Schema for it; the Trigger form still validates with it)</span></p>`}
<h2>Schedules</h2>
${
  job.schedules.length
    ? html`<table class="list"><caption class="sr-only">Schedules of ${job.id}</caption>
<thead><tr><th scope="col">Schedule</th><th scope="col">Cron</th><th scope="col">Zone</th><th scope="col">Next fire times</th></tr></thead>
<tbody>${job.schedules.map(
        (s) =>
          html`<tr><td>${s.id}</td><td><code class="cron">${s.cron}</code></td><td>${s.tz}</td><td class="fires">${nextFires(s.cron, s.tz, view.now).map((t, i) => html`${i ? html`<br>` : ""}${t}`)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="empty">None.</p>`
}
<h2>Latest runs</h2>
<section id="job-runs" data-live aria-label="Latest runs">${messageTable(view, latest(view, job, 10), `Latest runs of ${job.id}`)}</section>
<h2>Trigger</h2>
${triggerForm(job, schema, state)}`;
  return { title: `Job ${job.id}`, content };
}

function triggerForm(job: AnyJob, schema: Record<string, unknown> | undefined, state: TriggerState): Html {
  const input = state.input ?? JSON.stringify(exampleOf(schema), null, 2);
  const o = state.options ?? {};
  const field = (name: string, label: string, hint: string, type = "text") =>
    html`<div class="field"><label for="t-${name}">${label}</label><input id="t-${name}" name="${name}" type="${type}" value="${o[name] ?? ""}" placeholder="${hint}"${type === "number" ? html` min="0"` : ""}></div>`;
  return html`<form id="trigger" class="trigger" method="post" action="${BASE}/jobs/${job.id}/trigger" data-trigger data-validate="${BASE}/jobs/${job.id}/validate">
<label for="trigger-input">Input (JSON)</label>
<textarea id="trigger-input" name="input" rows="${Math.min(20, Math.max(4, input.split("\n").length + 1))}" spellcheck="false" aria-describedby="trigger-issues">${input}</textarea>
${issueList("trigger-issues", state.issues, state.error)}
<fieldset><legend>Options</legend>
${field("delay", "Delay", 'e.g. "10s", "5m"')}
${field("retries", "Retries", String(jobDefaults(job).retries), "number")}
${field("timeout", "Timeout", 'e.g. "30s"')}
${field("retryDelay", "Retry delay", 'ms, or e.g. "pow(2, retried) * 1000"')}
${field("label", "Label", job.definition.label ?? job.id)}
${field("queue", "Queue", job.definition.queue ?? "none")}
${field("deduplicationId", "Deduplication id", "none")}
<div class="field wide"><label for="t-headers">Headers</label><textarea id="t-headers" name="headers" rows="2" spellcheck="false" placeholder="Name: value, one per line">${o.headers ?? ""}</textarea></div>
</fieldset>
<div class="buttons"><button type="submit">Trigger</button></div>
<p id="trigger-result" role="status" aria-live="polite"></p>
</form>`;
}

/** The problems with an input, next to the editor (announced, and named by aria-describedby). */
export function issueList(id: string, issues: Issue[] | undefined, error?: string): Html {
  const items = [
    ...(error ? [html`<li>${error}</li>`] : []),
    ...(issues ?? []).map((i) => html`<li><code>${i.path || "(input)"}</code>: ${i.message}</li>`),
  ];
  return html`<ul id="${id}" class="issues" role="alert"${items.length ? "" : html` hidden`}>${items}</ul>`;
}
