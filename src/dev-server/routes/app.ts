import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DevServerError } from "../engine/errors.js";
import { registerResourceRoutes } from "./admin.js";
import type { RouteDeps } from "./context.js";
import { registerMessageRoutes } from "./messages.js";
import { registerPublishRoutes } from "./publish.js";

/** The HTTP face of the engine: every route only translates between HTTP and engine calls. */
export function createApp(deps: RouteDeps): Hono {
  const app = new Hono();

  // The one place engine errors become HTTP: client mistakes keep their 4xx, bugs are 500.
  app.onError((error, c) => {
    if (error instanceof DevServerError)
      return c.json({ error: error.message }, error.status as ContentfulStatusCode);
    console.error("jobstash dev: internal error", error);
    return c.json({ error: `internal error: ${(error as Error).message}` }, 500);
  });
  app.notFound((c) =>
    c.json({ error: `no such endpoint: ${c.req.method} ${new URL(c.req.url).pathname}` }, 404),
  );

  // Durable mode: a request that changes state is answered once the change is on disk. If it
  // cannot be written, the caller gets 503 and retries; nothing is acknowledged and lost.
  // Registered only then, so memory mode pays nothing for it.
  if (deps.durable) {
    app.use(async (c, next) => {
      await next();
      if (c.req.method === "GET" || c.req.method === "HEAD") return;
      try {
        await deps.engine.commit();
      } catch (error) {
        c.res = c.json({ error: (error as Error).message }, 503);
      }
    });
  }

  const unsupported = (what: string) => () => {
    throw new DevServerError(501, `${what} is not supported by the local server`);
  };
  app.all("/llm/*", unsupported("the LLM API"));
  app.all("/v2/workflows/*", unsupported("the Upstash Workflow protocol"));
  app.all("/v2/wait/*", unsupported("the Upstash Workflow protocol (wait)"));
  app.all("/v2/waiters/*", unsupported("the Upstash Workflow protocol (waiters)"));
  app.all("/v2/notify/*", unsupported("the Upstash Workflow protocol (notify)"));

  registerPublishRoutes(app, deps);
  registerMessageRoutes(app, deps);
  registerResourceRoutes(app, deps);
  return app;
}
