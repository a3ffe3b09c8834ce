import type { LogState } from "../engine/model.js";
import { type Html, html } from "./html.js";

/** `2026-12-01 12:00:01.234` in UTC, as the CLI's log lines read (their time of day is UTC too). */
function utc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** A time as a `<time>` element. */
export function at(ms: number | undefined): Html | string {
  return ms === undefined ? "" : html`<time datetime="${new Date(ms).toISOString()}">${utc(ms)}</time>`;
}

/** `450 ms`, `12.3 s`, `5 min`. */
export function span(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, "")} h`;
}

/** How each state reads in a list, and its colour class. */
const STATES: Record<LogState, [label: string, tone: string]> = {
  CREATED: ["pending", "wait"],
  ACTIVE: ["active", "busy"],
  RETRY: ["retrying", "warn"],
  ERROR: ["error", "warn"],
  DELIVERED: ["delivered", "ok"],
  FAILED: ["failed", "bad"],
  CANCEL_REQUESTED: ["cancelling", "wait"],
  CANCELLED: ["cancelled", "mute"],
};

/** The state filter's choices: value, label. */
export const STATE_CHOICES: [LogState, string][] = (
  ["CREATED", "ACTIVE", "RETRY", "DELIVERED", "FAILED", "CANCELLED"] as const
).map((s) => [s, STATES[s][0]]);

export function badge(state: LogState): Html {
  const [label, tone] = STATES[state];
  return html`<span class="badge ${tone}" data-state="${state}">${label}</span>`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A body as people read it: pretty JSON when it parses, the text when it is UTF-8, else base64
 * (said so). `kind` tells which, for the label next to it.
 */
export function decodeBody(bytes: Uint8Array | undefined): {
  text: string;
  kind: "json" | "text" | "base64" | "empty";
} {
  if (!bytes?.length) return { text: "", kind: "empty" };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { text: Buffer.from(bytes).toString("base64"), kind: "base64" };
  }
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), kind: "json" };
  } catch {
    return { text, kind: "text" };
  }
}

/** A body in a `<pre>`, with what it is; long ones are cut (the message page has them whole). */
export function bodyBlock(bytes: Uint8Array | undefined, max = 100_000): Html {
  const { text, kind } = decodeBody(bytes);
  if (kind === "empty") return html`<p class="muted">(empty)</p>`;
  const cut = text.length > max;
  return html`<pre class="body" data-kind="${kind}">${cut ? `${text.slice(0, max)}…` : text}</pre>${
    kind === "base64" && html`<p class="muted">Not UTF-8: shown as base64.</p>`
  }${cut && html`<p class="muted">Cut at ${max} characters of ${text.length}.</p>`}`;
}

/** Whole number with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}
