import { type AnyJobstash, createHandler, type EnvSource, type ExecutionContextLike } from "jobstash";

/** What Pages Functions pass: one context object. */
interface PagesContext {
  request: Request;
  env: EnvSource;
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A Workers fetch handler serving every job: `export default { fetch: serve(jobs) }`, or a
 * Pages Function: `export const onRequestPost = serve(jobs)`. Bindings are read per request.
 */
export function serve(jobs: AnyJobstash) {
  const handler = createHandler(jobs);
  return (input: Request | PagesContext, env?: EnvSource, ctx?: ExecutionContextLike): Promise<Response> =>
    "request" in input && !(input instanceof Request)
      ? handler(input.request, input.env, { waitUntil: (promise) => input.waitUntil(promise) })
      : handler(input as Request, env, ctx);
}
