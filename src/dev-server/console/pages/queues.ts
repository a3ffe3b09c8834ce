import type { View } from "../context.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";

function toggle(path: string, paused: boolean, name: string, id: string): Html {
  const action = paused ? "Resume" : "Pause";
  return html`<form method="post" action="${path}/${paused ? "resume" : "pause"}" data-action><button type="submit" id="${id}" class="secondary" aria-label="${action} ${name}">${action}</button></form>`;
}

/** Queues and flow-control keys: their limits, what waits and what runs; Pause and Resume. */
export function queuesPage(view: View): { title: string; content: Html } {
  const queues = view.engine.queues.list(view.user);
  const keys = view.engine.flow.list(view.user);
  const content = html`<section id="queues" data-live aria-label="Queues and flow control">
<h2>Queues</h2>
${
  queues.length === 0
    ? html`<p class="empty">No queues.</p>`
    : html`<table class="list"><caption class="sr-only">Queues</caption>
<thead><tr><th scope="col">Queue</th><th scope="col">Parallelism</th><th scope="col">Lag</th><th scope="col">Waiting</th><th scope="col">In flight</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
<tbody>${queues.map(
        (q) => html`<tr data-queue="${q.name}">
<td><a href="${BASE}/messages?queue=${encodeURIComponent(q.name)}"><code>${q.name}</code></a></td>
<td>${q.parallelism}</td>
<td>${q.pending.length + q.active}</td>
<td>${q.pending.length}</td>
<td>${q.active}</td>
<td>${q.paused ? html`<span class="badge mute">paused</span>` : html`<span class="badge ok">running</span>`}</td>
<td><div class="actions">${toggle(`${BASE}/queues/${encodeURIComponent(q.name)}`, q.paused, q.name, `queue-${q.name}-toggle`)}</div></td>
</tr>`,
      )}</tbody></table>`
}
<h2>Flow control</h2>
${
  keys.length === 0
    ? html`<p class="empty">No flow-control keys: a key appears with the first message that uses it.</p>`
    : html`<table class="list"><caption class="sr-only">Flow-control keys</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Parallelism (in flight / max)</th><th scope="col">Rate (this period / max)</th><th scope="col">Wait list</th><th scope="col">Pinned</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
<tbody>${keys.map(
        (k) => html`<tr data-flow-key="${k.key}">
<td><code>${k.key}</code></td>
<td>${k.active} / ${k.parallelism ?? "∞"}</td>
<td>${k.rate ? `${k.rateCount} / ${k.rate} per ${k.period}s` : "no limit"}</td>
<td>${k.waitlist.length}</td>
<td>${[k.pinnedParallelism && "parallelism", k.pinnedRate && "rate"].filter(Boolean).join(", ") || "no"}</td>
<td>${k.paused ? html`<span class="badge mute">paused</span>` : html`<span class="badge ok">running</span>`}</td>
<td><div class="actions">${toggle(`${BASE}/flow/${encodeURIComponent(k.key)}`, k.paused, k.key, `flow-${k.key}-toggle`)}</div></td>
</tr>`,
      )}</tbody></table>`
}
</section>`;
  return { title: "Queues and flow control", content };
}
