/**
 * The console's stylesheet: system fonts, light and dark from `prefers-color-scheme`, visible
 * focus, and tables that scroll sideways on a narrow screen rather than squeeze.
 */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1d2125; --muted: #5b6470; --line: #d8dde3; --panel: #f5f7f9;
  --link: #0b5cad; --accent: #0b5cad; --accent-fg: #ffffff; --focus: #c2410c;
  --ok: #176b34; --ok-bg: #e3f4e8; --bad: #a3231b; --bad-bg: #fbe7e5; --warn: #8a5300; --warn-bg: #fdf0d8;
  --busy: #0b5cad; --busy-bg: #e1ecf9; --wait: #4b5563; --wait-bg: #eceff2;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181c; --fg: #e4e7eb; --muted: #9aa4b0; --line: #333a42; --panel: #1d2227;
    --link: #7cb7ff; --accent: #3b82d6; --accent-fg: #ffffff; --focus: #fb923c;
    --ok: #7ddc9a; --ok-bg: #16301f; --bad: #ff9a90; --bad-bg: #3a1916; --warn: #f6c26b; --warn-bg: #382a10;
    --busy: #9cc8ff; --busy-bg: #152a44; --wait: #c3cad3; --wait-bg: #2a3037;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--link); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
code, pre, .id, .url { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: 0.5rem; }
.skip:focus { left: 0.5rem; z-index: 10; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.25rem; padding: 0.6rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.brand { font-weight: 700; color: var(--fg); text-decoration: none; }
.brand span { font-weight: 400; color: var(--muted); }
.top nav ul { display: flex; flex-wrap: wrap; gap: 0.25rem; margin: 0; padding: 0; list-style: none; }
.top nav a { display: block; padding: 0.3rem 0.6rem; border-radius: 6px; color: var(--fg); text-decoration: none; }
.top nav a:hover { background: var(--line); }
.top nav a[aria-current="page"] { background: var(--accent); color: var(--accent-fg); }
.user { display: flex; align-items: center; gap: 0.4rem; margin-left: auto; }
.live { font-size: 0.85em; color: var(--muted); min-width: 6em; }
.live[data-state="live"]::before { content: "● "; color: var(--ok); }
.live[data-state="down"]::before { content: "● "; color: var(--bad); }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
main:focus { outline: none; }
h1 { font-size: 1.35rem; margin: 0.25rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 0.6rem; }
h3 { font-size: 1rem; margin: 0 0 0.4rem; }
input, select, textarea, button, .button { font: inherit; color: inherit; }
input, select, textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 0.3rem 0.45rem; }
textarea { width: 100%; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
textarea[aria-invalid="true"] { border-color: var(--bad); }
button, .button { display: inline-block; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); border-radius: 6px; padding: 0.3rem 0.8rem; cursor: pointer; text-decoration: none; line-height: 1.4; }
button.secondary, .button.secondary { background: transparent; color: var(--link); }
button.danger { background: transparent; color: var(--bad); border-color: var(--bad); }
button:hover, .button:hover { filter: brightness(1.1); }
form { margin: 0; }
.filters { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: flex-end; padding: 0.75rem; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 1rem; }
.filters .field { display: flex; flex-direction: column; gap: 0.2rem; }
.filters label { font-size: 0.85em; color: var(--muted); }
.filters input, .filters select { color: var(--fg); min-width: 9rem; }
.buttons { display: flex; gap: 0.75rem; align-items: center; }
.summary { color: var(--muted); margin: 0.25rem 0 0.5rem; }
section[data-live] { overflow-x: auto; }
table.list { border-collapse: collapse; width: 100%; }
table.list th, table.list td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.list th { font-size: 0.85em; color: var(--muted); font-weight: 600; white-space: nowrap; }
table.list tbody tr:hover { background: var(--panel); }
table.compact td { padding: 0.25rem 0.5rem; }
div.actions { display: flex; gap: 0.4rem; flex-wrap: wrap; }
code.cron, .fires { white-space: nowrap; }
td .url { word-break: break-all; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.82em; font-weight: 600; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.busy { color: var(--busy); background: var(--busy-bg); }
.badge.wait, .badge.mute { color: var(--wait); background: var(--wait-bg); }
.muted, .empty { color: var(--muted); }
.error, .error-text { color: var(--bad); }
p.error, p.warning { padding: 0.6rem 0.8rem; border-radius: 6px; background: var(--bad-bg); }
p.warning { color: var(--warn); background: var(--warn-bg); }
.notice { padding: 0.5rem 0.75rem; border-radius: 6px; background: var(--ok-bg); color: var(--ok); }
.notice.error { background: var(--bad-bg); color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
pre.body { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; overflow: auto; max-height: 28rem; white-space: pre-wrap; word-break: break-all; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; color: var(--link); }
ol.timeline { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.6rem; }
li.attempt { border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; }
li.attempt.ok { border-left-color: var(--ok); }
li.attempt.bad { border-left-color: var(--bad); }
li.attempt.busy { border-left-color: var(--busy); }
li.attempt dl.facts { margin: 0; }
ul.dead { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.75rem; }
ul.dead > li { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem; }
ul.dead .head { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: baseline; }
.bulk { display: flex; gap: 0.5rem; margin: 0 0 0.75rem; }
ul.issues { color: var(--bad); margin: 0.4rem 0; padding-left: 1.2rem; }
.trigger fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 0.75rem 0; display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; }
.trigger .field { display: flex; flex-direction: column; gap: 0.2rem; }
.trigger .field label { font-size: 0.85em; color: var(--muted); }
.trigger .field.wide { flex-basis: 100%; }
.pager { display: flex; gap: 1rem; margin: 0.75rem 0; }
ul.callbacks { padding-left: 1.2rem; }
`;
