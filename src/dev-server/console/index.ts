import { createHash } from "node:crypto";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Engine } from "../engine/engine.js";
import { DevServerError } from "../engine/errors.js";
import { callerIp } from "../routes/context.js";
import { type ActionResult, bulkDlq, editAndRetry, formOf, parseJson, trigger } from "./actions.js";
import { clientScript } from "./assets/client.js";
import { STYLE } from "./assets/style.js";
import {
  type ConsoleOptions,
  checkSameOrigin,
  consoleUser,
  registryLoader,
  USER_COOKIE,
  type View,
} from "./context.js";
import type { Html } from "./html.js";
import { BASE, errorContent, page } from "./layout.js";
import { dlqEntryPage, dlqPage } from "./pages/dlq.js";
import { eventsPage } from "./pages/events.js";
import { jobPage, jobsPage } from "./pages/jobs.js";
import { messagePage } from "./pages/message.js";
import { messagesPage } from "./pages/messages.js";
import { queuesPage } from "./pages/queues.js";
import { schedulesPage } from "./pages/schedules.js";
import { streamEvents } from "./stream.js";

export type { ConsoleOptions } from "./context.js";

/** A static asset, served under a name that changes with its content (cached for good). */
function asset(name: string, type: string, body: string) {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
  const [stem, ext] = name.split(".");
  return { path: `${BASE}/assets/${stem}.${hash}.${ext}`, type, body };
}

interface Rendered {
  title: string;
  content: Html;
  status?: 404 | 422;
  redirect?: string;
}

/**
 * The dev console: server-rendered pages on the dev server's own Hono app, under `/console`,
 * reading and acting through the engine's operations (the ones the REST API uses) as one of
 * the dev users. Every other path keeps QStash's API; `GET /` sends a browser here.
 */
export function registerConsole(app: Hono, engine: Engine, options: ConsoleOptions = {}): void {
  const loadRegistry = registryLoader(options);
  const css = asset("console.css", "text/css; charset=utf-8", STYLE);
  const js = asset("console.js", "text/javascript; charset=utf-8", clientScript());
  const assets = { css: css.path, js: js.path };

  const viewOf = async (c: Context): Promise<View> => ({
    engine,
    registry: await loadRegistry(),
    ...consoleUser(c, engine),
    now: engine.clock.now(),
    url: new URL(c.req.url),
  });

  /** A page: rendered in full (the script swaps its live parts from a fresh copy). */
  const show =
    (section: string, build: (view: View, c: Context) => Rendered | Promise<Rendered>) =>
    async (c: Context) => {
      const view = await viewOf(c);
      let r: Rendered;
      try {
        r = await build(view, c);
      } catch (error) {
        if (!(error instanceof DevServerError)) throw error;
        const html = page({ title: "Error", section, ...view, assets }, errorContent(error.message));
        return c.html(html.value, error.status as ContentfulStatusCode);
      }
      if (r.redirect) {
        // The script's own fetches are told where to go rather than sent there: it navigates once,
        // instead of fetching the page and then loading it again.
        if (c.req.header("x-console-live")) return c.body(null, 204, { "x-console-location": r.redirect });
        return c.redirect(r.redirect, 303);
      }
      const html = page({ title: r.title, section, ...view, assets }, r.content);
      return c.html(html.value, r.status ?? 200, { "cache-control": "no-store" });
    };

  /**
   * An action: the console's script posts with `x-console-fetch` and gets JSON (then refreshes
   * the live parts); a plain form post (no script) is redirected back, or shown its problems.
   */
  const act =
    (
      run: (view: View, c: Context, form: Record<string, string>) => ActionResult | Promise<ActionResult>,
      onProblem?: (view: View, c: Context, form: Record<string, string>, r: ActionResult) => Rendered,
      section = "",
    ) =>
    async (c: Context) => {
      checkSameOrigin(c);
      const scripted = c.req.header("x-console-fetch") === "1";
      const view = await viewOf(c);
      const form = await formOf(c);
      let result: ActionResult;
      let status: ContentfulStatusCode = 200;
      try {
        result = await run(view, c, form);
        if (result.issues || result.error) status = 422;
      } catch (error) {
        if (!(error instanceof DevServerError)) throw error;
        result = { error: error.message };
        status = error.status as ContentfulStatusCode;
      }
      if (scripted) return c.json(result, status);
      if (status !== 200 && onProblem) {
        const r = onProblem(view, c, form, result);
        return c.html(page({ title: r.title, section, ...view, assets }, r.content).value, 422);
      }
      if (status !== 200) {
        return c.html(
          page({ title: "Error", section, ...view, assets }, errorContent(result.error ?? "refused")).value,
          status,
        );
      }
      return c.redirect(result.location ?? backOf(c, form), 303);
    };

  // Browsers opening the server's root land in the console; API clients keep QStash's 404.
  app.get("/", (c, next) =>
    c.req.header("accept")?.includes("text/html") ? c.redirect(`${BASE}/`) : next(),
  );
  app.get(`${BASE}`, (c) => c.redirect(`${BASE}/`));
  app.get(`${BASE}/`, async (c) => {
    const registry = await loadRegistry();
    return c.redirect(`${BASE}/${registry.jobs.length || registry.loadError ? "jobs" : "messages"}`);
  });
  for (const a of [css, js]) {
    app.get(a.path, (c) =>
      c.body(a.body, 200, { "content-type": a.type, "cache-control": "public, max-age=31536000, immutable" }),
    );
  }
  app.get(`${BASE}/stream`, (c) => streamEvents(c, engine, consoleUser(c, engine).user));

  app.post(`${BASE}/user`, async (c) => {
    checkSameOrigin(c);
    const form = await formOf(c);
    const users = [...engine.users.all()];
    if (!users.some((u) => u.userId === form.user))
      throw new DevServerError(400, `no dev user ${JSON.stringify(form.user)}`);
    c.header(
      "set-cookie",
      `${USER_COOKIE}=${encodeURIComponent(form.user!)}; Path=${BASE}; SameSite=Strict; HttpOnly`,
    );
    return c.redirect(backOf(c, form), 303);
  });

  // ---- pages
  app.get(`${BASE}/jobs`, show("/jobs", jobsPage));
  app.get(
    `${BASE}/jobs/:id`,
    show("/jobs", (v, c) => jobPage(v, c.req.param("id")!)),
  );
  app.get(`${BASE}/messages`, show("/messages", messagesPage));
  app.get(
    `${BASE}/messages/:id`,
    show("/messages", (v, c) => messagePage(v, c.req.param("id")!)),
  );
  app.get(`${BASE}/schedules`, show("/schedules", schedulesPage));
  app.get(`${BASE}/queues`, show("/queues", queuesPage));
  app.get(`${BASE}/dlq`, show("/dlq", dlqPage));
  app.get(
    `${BASE}/dlq/:id`,
    show("/dlq", (v, c) => dlqEntryPage(v, c.req.param("id")!)),
  );
  app.get(`${BASE}/events`, show("/events", eventsPage));

  // ---- actions, each one engine operation
  app.post(
    `${BASE}/jobs/:id/validate`,
    act(async (v, c, form) => {
      const job = v.registry.job(c.req.param("id")!);
      if (!job) throw new DevServerError(404, `no job ${JSON.stringify(c.req.param("id"))} in the registry`);
      const parsed = parseJson(form.input ?? form.body ?? "");
      if ("issues" in parsed) return { issues: parsed.issues };
      const checked = await v.registry.validate(job, parsed.value);
      return "issues" in checked ? { issues: checked.issues } : {};
    }),
  );
  app.post(
    `${BASE}/jobs/:id/trigger`,
    act(
      async (v, c, form) => {
        const r = await trigger(c, v, c.req.param("id")!, form);
        return r.messageId ? { ...r, location: `${BASE}/messages/${r.messageId}` } : r;
      },
      (v, c, form, r) =>
        jobPage(v, c.req.param("id")!, {
          input: form.input,
          options: form,
          issues: r.issues,
          error: r.error,
        }),
      "/jobs",
    ),
  );
  app.post(
    `${BASE}/messages/:id/cancel`,
    act((v, c) => {
      v.engine.messages.cancel(v.user, c.req.param("id")!);
      return { notice: `Cancelled ${c.req.param("id")}` };
    }),
  );
  app.post(
    `${BASE}/schedules/:id/:action{pause|resume|run}`,
    act((v, c) => {
      const id = c.req.param("id")!;
      const action = c.req.param("action");
      if (action === "run") {
        const ids = v.engine.schedules.runNow(v.user, id);
        return { notice: `Ran ${id}: ${ids.join(", ") || "no message"}` };
      }
      v.engine.schedules.pause(v.user, id, action === "pause");
      return { notice: `${action === "pause" ? "Paused" : "Resumed"} ${id}` };
    }),
  );
  app.post(
    `${BASE}/queues/:name/:action{pause|resume}`,
    act((v, c) => {
      const pause = c.req.param("action") === "pause";
      v.engine.queues.pause(v.user, c.req.param("name")!, pause);
      return { notice: `${pause ? "Paused" : "Resumed"} queue ${c.req.param("name")}` };
    }),
  );
  app.post(
    `${BASE}/flow/:key/:action{pause|resume}`,
    act((v, c) => {
      const pause = c.req.param("action") === "pause";
      v.engine.flow.pause(v.user, c.req.param("key")!, pause);
      return { notice: `${pause ? "Paused" : "Resumed"} flow-control key ${c.req.param("key")}` };
    }),
  );
  app.post(
    `${BASE}/dlq/retry`,
    act((v, c, form) => bulkDlq(c, v, form, "retry")),
  );
  app.post(
    `${BASE}/dlq/delete`,
    act((v, c, form) => bulkDlq(c, v, form, "delete")),
  );
  app.post(
    `${BASE}/dlq/:id/retry`,
    act((v, c) => {
      const [r] = v.engine.dlq.retry(
        v.user,
        [v.engine.dlq.get(v.user, c.req.param("id")!)],
        new Map(),
        callerIp(c),
      );
      return { notice: `Retried as ${r!.messageId}` };
    }),
  );
  app.post(
    `${BASE}/dlq/:id/delete`,
    act((v, c) => {
      v.engine.dlq.delete(v.user, [v.engine.dlq.get(v.user, c.req.param("id")!)]);
      return { notice: `Deleted ${c.req.param("id")}` };
    }),
  );
  app.post(
    `${BASE}/dlq/:id/edit`,
    act(
      async (v, c, form) => {
        const r = await editAndRetry(c, v, c.req.param("id")!, form);
        return r.messageId ? { ...r, location: `${BASE}/messages/${r.messageId}` } : r;
      },
      (v, c, form, r) =>
        dlqEntryPage(v, c.req.param("id")!, { body: form.body, issues: r.issues, error: r.error }),
      "/dlq",
    ),
  );
}

/** Where a plain form post goes back to: its `back` field (a console path), else where it came from. */
function backOf(c: Context, form: Record<string, string>): string {
  if (form.back?.startsWith(`${BASE}/`)) return form.back;
  const referer = c.req.header("referer");
  if (referer) {
    const u = new URL(referer);
    if (u.pathname.startsWith(`${BASE}/`)) return u.pathname + u.search;
  }
  return `${BASE}/`;
}
