import { DEFAULT_PERIOD_SECONDS } from "../../../protocol.js";
import type { LogEntry, Message } from "../../engine/model.js";
import { bodyBytes } from "../../engine/model.js";
import { responseReason } from "../../engine/reason.js";
import { messageView } from "../../engine/views.js";
import type { View } from "../context.js";
import { at, badge, bodyBlock, span } from "../format.js";
import { type Html, html } from "../html.js";
import { BASE } from "../layout.js";
import { target } from "./messages.js";

/** One attempt, from its ACTIVE event to the event that reported its answer. */
interface Attempt {
  started: number;
  ended?: LogEntry;
  nextRetry?: number;
}

/** Pairs each ACTIVE event with the DELIVERED or ERROR that ended it, and the RETRY after. */
function attemptsOf(events: LogEntry[]): Attempt[] {
  const out: Attempt[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.state === "ACTIVE") out.push({ started: e.time });
    else if ((e.state === "DELIVERED" || e.state === "ERROR") && last && !last.ended) last.ended = e;
    else if (e.state === "RETRY" && last) last.nextRetry = e.nextDeliveryTime;
  }
  return out;
}

function attemptRows(attempts: Attempt[]): Html {
  if (attempts.length === 0) return html`<p class="empty">No attempt yet.</p>`;
  return html`<ol class="timeline">${attempts.map((a, i) => {
    const e = a.ended;
    const status = e?.responseStatus;
    const reason = e && e.state !== "DELIVERED" ? (responseReason(e.responseBody) ?? e.error) : undefined;
    const tone = !e ? "busy" : e.state === "DELIVERED" ? "ok" : "bad";
    return html`<li class="attempt ${tone}">
<h3>Attempt ${i + 1}</h3>
<dl class="facts">
<dt>Started (UTC)</dt><dd>${at(a.started)}</dd>
<dt>Status</dt><dd>${e ? (status ?? "no response") : "in flight"}</dd>
${e && html`<dt>Duration</dt><dd>${span(e.time - a.started)}</dd>`}
${e?.error && html`<dt>Error</dt><dd class="error-text">${e.error}</dd>`}
${reason && reason !== e?.error && html`<dt>Reason</dt><dd class="error-text">${reason}</dd>`}
${a.nextRetry !== undefined && html`<dt>Next retry (UTC)</dt><dd>${at(a.nextRetry)}</dd>`}
</dl>
${e?.responseBody?.length ? html`<details><summary>Response body</summary>${bodyBlock(e.responseBody)}</details>` : ""}
</li>`;
  })}</ol>`;
}

function eventRows(events: LogEntry[]): Html {
  return html`<table class="list compact"><caption class="sr-only">Events</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Detail</th></tr></thead>
<tbody>${events.map(
    (e) =>
      html`<tr><td>${at(e.time)}</td><td><code>${e.state}</code></td><td>${[
        e.responseStatus !== undefined ? `${e.responseStatus}` : "",
        e.error ?? "",
        e.nextDeliveryTime !== undefined ? `next at ${new Date(e.nextDeliveryTime).toISOString()}` : "",
      ]
        .filter(Boolean)
        .join(" · ")}</td></tr>`,
  )}</tbody></table>`;
}

function headerRows(header: Record<string, string[]>): Html {
  const names = Object.keys(header);
  if (names.length === 0) return html`<p class="empty">No headers.</p>`;
  return html`<table class="list compact"><caption class="sr-only">Headers</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
<tbody>${names.map((n) => html`<tr><td><code>${n}</code></td><td><code>${header[n]!.join(", ")}</code></td></tr>`)}</tbody></table>`;
}

function callbackRows(view: View, msg: Message): Html {
  const callbacks = view.engine.messages.callbacksOf(view.user, msg);
  if (!msg.cfg.callback && !msg.cfg.failureCallback) return html`<p class="empty">No callbacks.</p>`;
  if (callbacks.length === 0) return html`<p class="empty">None sent yet.</p>`;
  return html`<ul class="callbacks">${callbacks.map(({ msg: cb, state }) => {
    const which = cb.url === msg.cfg.callback ? "Success callback" : "Failure callback";
    const answered = view.engine.messages
      .events(view.user, cb)
      .findLast((e) => e.responseStatus !== undefined)?.responseStatus;
    return html`<li>${which} <a class="id" href="${BASE}/messages/${cb.id}">${cb.id}</a> ${badge(state)}${
      answered !== undefined ? html` <span class="muted">answered ${answered}</span>` : ""
    }</li>`;
  })}</ul>`;
}

/** A message's page: its facts, Cancel while pending, the attempts, body, headers and callbacks. */
export function messagePage(view: View, id: string): { title: string; content: Html; status?: 404 } {
  const found = view.engine.messages.find(view.user, id);
  if (!found) {
    return {
      title: "Message not found",
      status: 404,
      content: html`<p class="error" role="alert">No message <code>${id}</code> for ${view.user.userId}: unknown, or so old that the event log no longer holds it.</p><p><a href="${BASE}/messages">All messages</a></p>`,
    };
  }
  const { msg, state } = found;
  const events = view.engine.messages.events(view.user, msg);
  const shown = messageView(msg) as { header?: Record<string, string[]>; body?: string; bodyBase64?: string };
  const dlq = [...view.user.dlq.values()].find((e) => e.msg === msg);
  const pending = msg.phase !== "done" && !msg.cancelRequested;
  const flow = msg.cfg.flowControl;
  const content = html`<section id="message" data-live aria-label="Message">
<dl class="facts">
<dt>Message id</dt><dd><code class="id">${msg.id}</code></dd>
<dt>State</dt><dd>${badge(state)}</dd>
<dt>Job / URL</dt><dd>${target(view, msg)} <span class="url muted">${msg.url}</span></dd>
<dt>Created (UTC)</dt><dd>${at(msg.createdAt)}</dd>
${msg.notBefore > msg.createdAt && html`<dt>Not before (UTC)</dt><dd>${at(msg.notBefore)}</dd>`}
<dt>Retried</dt><dd>${msg.retried} of ${msg.cfg.retries}</dd>
${msg.queue && html`<dt>Queue</dt><dd><a href="${BASE}/queues">${msg.queue.name}</a></dd>`}
${flow && html`<dt>Flow-control key</dt><dd><code>${flow.key}</code>${flow.parallelism ? ` parallelism ${flow.parallelism}` : ""}${flow.rate ? ` rate ${flow.rate}/${flow.period ?? DEFAULT_PERIOD_SECONDS}s` : ""}</dd>`}
${msg.scheduleId && html`<dt>Schedule</dt><dd><a href="${BASE}/schedules">${msg.scheduleId}</a></dd>`}
${msg.cfg.labels?.length && html`<dt>Labels</dt><dd>${msg.cfg.labels.join(", ")}</dd>`}
${msg.cfg.callback && html`<dt>Callback</dt><dd class="url">${msg.cfg.callback}</dd>`}
${msg.cfg.failureCallback && html`<dt>Failure callback</dt><dd class="url">${msg.cfg.failureCallback}</dd>`}
${dlq && html`<dt>Dead letter</dt><dd><a class="id" href="${BASE}/dlq/${dlq.dlqId}">${dlq.dlqId}</a></dd>`}
</dl>
${pending && html`<form method="post" action="${BASE}/messages/${msg.id}/cancel" data-action><button type="submit" class="danger">Cancel</button></form>`}
<h2>Attempts</h2>
${attemptRows(attemptsOf(events))}
<h2>Callbacks</h2>
${callbackRows(view, msg)}
<details><summary>Events (${events.length})</summary>${eventRows(events)}</details>
</section>
<h2>Body</h2>
${shown.bodyBase64 !== undefined || shown.body?.startsWith("REDACTED:") ? html`<pre class="body">${shown.body ?? shown.bodyBase64}</pre>` : bodyBlock(bodyBytes(msg.body))}
<h2>Headers</h2>
${headerRows(shown.header ?? {})}`;
  return { title: `Message ${msg.id}`, content };
}
