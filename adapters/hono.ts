import { type Context, Hono } from "hono";
import { type AnyJobstash, createHandler, type EnvSource, type ExecutionContextLike } from "jobstash";

export const frameworkName = "hono";

/** On @hono/node-server `c.env` is `{ incoming, outgoing }`, not configuration. */
const isNodeServer = (env: object) => "incoming" in env && "outgoing" in env;

function executionContext(c: Context): ExecutionContextLike | undefined {
  try {
    return c.executionCtx; // throws where the runtime has none (Node)
  } catch {
    return undefined;
  }
}

/**
 * A Hono app serving every job: `app.route("/api/jobs", serve(jobs))`, on Node, Workers, Bun
 * and Deno. It is built with the app's own `hono` (a peer dependency, any 4.x), since
 * `app.route()` only type-checks with a Hono from the same copy.
 */
export function serve(jobs: AnyJobstash): Hono {
  const handler = createHandler(jobs);
  return new Hono().all("/*", (c) => {
    const env = c.env as EnvSource | undefined;
    // @hono/node-server never passes an execution context: skip the getter, whose throw (an
    // Error and its stack, per request) cost a quarter of the adapter's throughput.
    if (env && typeof env === "object" && isNodeServer(env)) return handler(c.req.raw);
    return handler(c.req.raw, env && typeof env === "object" ? env : undefined, executionContext(c));
  });
}
