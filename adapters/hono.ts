import { type Context, Hono } from "hono";
import { type AnyJobstash, createHandler, type EnvSource, type ExecutionContextLike } from "jobstash";

export const frameworkName = "hono";

/** On @hono/node-server `c.env` is `{ incoming, outgoing }`, not configuration. */
function bindings(c: Context): EnvSource | undefined {
  const env = c.env as EnvSource | undefined;
  return env && typeof env === "object" && !("incoming" in env && "outgoing" in env) ? env : undefined;
}

function executionContext(c: Context): ExecutionContextLike | undefined {
  try {
    return c.executionCtx; // throws where the runtime has none (Node)
  } catch {
    return undefined;
  }
}

/** A Hono app serving every job: `app.route("/api/jobs", serve(jobs))`, on Node, Workers, Bun and Deno. */
export function serve(jobs: AnyJobstash): Hono {
  const handler = createHandler(jobs);
  return new Hono().all("/*", (c) => handler(c.req.raw, bindings(c), executionContext(c)));
}
