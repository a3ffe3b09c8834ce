import type { UserState } from "../engine/model.js";
import { type Html, html } from "./html.js";

/** Where the console lives on the dev server; everything else keeps QStash's API. */
export const BASE = "/console";

const NAV: [path: string, label: string][] = [
  ["/jobs", "Jobs"],
  ["/messages", "Messages"],
  ["/schedules", "Schedules"],
  ["/queues", "Queues"],
  ["/dlq", "Dead letters"],
  ["/events", "Events"],
];

export interface PageFrame {
  title: string;
  /** Which navigation entry is current, e.g. "/messages". */
  section: string;
  user: UserState;
  users: readonly UserState[];
  /** Hashed asset URLs (cache-busting). */
  assets: { css: string; js: string };
}

/**
 * The page around every view: skip link, navigation, the user switcher and the live-update
 * status. Parts marked `data-live` are refreshed in place when the engine reports events.
 */
export function page(frame: PageFrame, content: Html): Html {
  const { title, section, user, users, assets } = frame;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title} · jobstash dev</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.css}">
<script src="${assets.js}" defer></script>
</head>
<body data-base="${BASE}" data-user="${user.userId}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="${BASE}/">jobstash <span>dev console</span></a>
  <nav aria-label="Console">
    <ul>${NAV.map(
      ([path, label]) =>
        html`<li><a href="${BASE}${path}"${section === path ? html` aria-current="page"` : ""}>${label}</a></li>`,
    )}</ul>
  </nav>
  <form class="user" method="post" action="${BASE}/user" data-autosubmit>
    <label for="user-switch">User</label>
    <select id="user-switch" name="user">${users.map(
      (u) => html`<option value="${u.userId}"${u === user ? html` selected` : ""}>${u.userId}</option>`,
    )}</select>
    <button type="submit" class="secondary">Switch</button>
  </form>
  <span id="live-status" class="live" role="status" aria-live="polite"></span>
</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
<p id="notice" class="notice" role="status" aria-live="polite" hidden></p>
${content}
</main>
</body>
</html>`;
}

/** A small page for an error (an unknown message id, a schedule that was deleted). */
export function errorContent(message: string): Html {
  return html`<p class="error" role="alert">${message}</p>`;
}
