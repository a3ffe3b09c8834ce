/**
 * The console's script: progressive enhancement of server-rendered pages, nothing more. Every
 * page works without it (links and plain form posts); with it, the parts marked `data-live`
 * refresh in place when the engine reports events (Server-Sent Events), filters apply as you
 * type, actions post without leaving the page, and the Trigger and Edit-and-retry editors
 * validate against the job's schema as you edit.
 *
 * It runs in the browser, serialised with `Function.prototype.toString`, so it must stay
 * self-contained: no imports, nothing from this module's scope.
 */
function consoleClient(): void {
  const base = document.body.dataset.base ?? "/console";
  const status = document.getElementById("live-status");
  const notice = document.getElementById("notice");

  const say = (text: string, isError = false) => {
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = !text;
    notice.classList.toggle("error", isError);
  };

  // ---- live parts: refetch the page and swap what changed, keeping focus where it was
  let refreshing = false;
  let again = false;
  let last = 0;
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const res = await fetch(location.href, { headers: { "x-console-live": "1" } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      swap(doc);
    } catch {
      // The server is gone or restarting: the event stream reconnects and asks again.
    } finally {
      refreshing = false;
      last = Date.now();
      if (again) {
        again = false;
        soon();
      }
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** At most one refresh every 300 ms however fast events come. */
  const soon = () => {
    if (timer) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        void refresh();
      },
      Math.max(0, 300 - (Date.now() - last)),
    );
  };
  const swap = (doc: Document) => {
    for (const el of document.querySelectorAll<HTMLElement>("[data-live][id]")) {
      const fresh = doc.getElementById(el.id);
      if (!fresh || fresh.innerHTML === el.innerHTML) continue;
      const active = document.activeElement;
      const focusId = active && el.contains(active) ? active.id : "";
      el.innerHTML = fresh.innerHTML;
      if (focusId) document.getElementById(focusId)?.focus();
    }
    enhance(document);
  };

  if (document.querySelector("[data-live]") && status) {
    const connect = () => {
      const source = new EventSource(`${base}/stream`);
      source.addEventListener("ready", () => {
        status.textContent = "Live";
        status.dataset.state = "live";
        // Whatever happened between rendering this page and subscribing (or while reconnecting)
        // came with no event: look once more.
        soon();
      });
      source.onmessage = soon;
      source.onerror = () => {
        status.textContent = "Reconnecting…";
        status.dataset.state = "down";
      };
    };
    connect();
  }

  // ---- filters: apply without a reload, keep the URL shareable
  let asked = 0;
  const applyFilter = async (form: HTMLFormElement) => {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === "string" && v.trim()) params.set(k, v.trim());
    const query = params.toString();
    const url = `${form.action}${query ? `?${query}` : ""}`;
    const mine = ++asked;
    const res = await fetch(url, { headers: { "x-console-live": "1" } });
    if (mine !== asked) return; // a later filter answers instead: never show an older one over it
    const go = res.headers.get("x-console-location");
    if (go) {
      location.assign(go); // a message id that exists opens its page
      return;
    }
    const text = await res.text();
    if (mine !== asked) return;
    history.replaceState(null, "", url);
    swap(new DOMParser().parseFromString(text, "text/html"));
  };
  for (const form of document.querySelectorAll<HTMLFormElement>("form[data-filter]")) {
    let typing: ReturnType<typeof setTimeout> | undefined;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void applyFilter(form);
    });
    form.addEventListener("change", () => void applyFilter(form));
    form.addEventListener("input", (e) => {
      if ((e.target as HTMLInputElement).type !== "text") return;
      clearTimeout(typing);
      typing = setTimeout(() => void applyFilter(form), 250);
    });
  }

  // ---- actions and editors post with fetch and answer in place
  const post = async (form: HTMLFormElement, extra?: Record<string, string>) => {
    const body = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === "string") body.set(k, v);
    for (const [k, v] of Object.entries(extra ?? {})) body.set(k, v);
    const res = await fetch(form.action, { method: "POST", body, headers: { "x-console-fetch": "1" } });
    const data = (await res.json().catch(() => ({ error: `the server answered ${res.status}` }))) as {
      notice?: string;
      location?: string;
      messageId?: string;
      issues?: { path: string; message: string }[];
      error?: string;
    };
    return data;
  };
  const showIssues = (
    form: HTMLFormElement,
    data: { issues?: { path: string; message: string }[]; error?: string },
  ) => {
    const editor = form.querySelector("textarea");
    const list = document.getElementById(editor?.getAttribute("aria-describedby") ?? "");
    if (!list) return;
    list.replaceChildren();
    if (data.error) list.append(Object.assign(document.createElement("li"), { textContent: data.error }));
    for (const issue of data.issues ?? []) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = issue.path || "(input)";
      li.append(code, `: ${issue.message}`);
      list.append(li);
    }
    list.hidden = list.childElementCount === 0;
    editor?.setAttribute("aria-invalid", String(!list.hidden));
  };

  const enhance = (root: ParentNode) => {
    for (const form of root.querySelectorAll<HTMLFormElement>("form[data-action]:not([data-ready])")) {
      form.dataset.ready = "";
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const data = await post(form);
        if (data.location) return location.assign(data.location);
        say(data.error ?? data.notice ?? "", Boolean(data.error));
        await refresh();
      });
    }
  };
  enhance(document);

  for (const form of document.querySelectorAll<HTMLFormElement>("form[data-trigger]")) {
    const editor = form.querySelector("textarea");
    const result = form.querySelector<HTMLElement>("[role=status]");
    const validate = form.dataset.validate;
    let typing: ReturnType<typeof setTimeout> | undefined;
    if (editor && validate) {
      editor.addEventListener("input", () => {
        clearTimeout(typing);
        typing = setTimeout(async () => {
          const body = new URLSearchParams({ input: editor.value });
          const res = await fetch(validate, { method: "POST", body, headers: { "x-console-fetch": "1" } });
          showIssues(form, await res.json());
        }, 300);
      });
    }
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearTimeout(typing);
      const data = await post(form);
      showIssues(form, data);
      if (data.issues || data.error) {
        editor?.focus();
        return;
      }
      if (form.id === "trigger" && data.messageId && result) {
        const link = Object.assign(document.createElement("a"), {
          href: `${base}/messages/${data.messageId}`,
          textContent: data.messageId,
          className: "id",
        });
        result.replaceChildren("Triggered ", link);
        return;
      }
      if (data.location) location.assign(data.location);
    });
  }
}

/**
 * The script as served: the function above, called. Run from the sources (tsx, vitest), its
 * text carries esbuild's `__name(fn, "name")` wrappers (they keep function names); the stand-in
 * makes them no-ops. The package build keeps no names, so there the text is plain.
 */
export function clientScript(): string {
  return `"use strict";var __name=function(f){return f};(${consoleClient.toString()})();\n`;
}
