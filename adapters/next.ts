import { type AnyJobstash, createHandler, createReplyHandler } from "jobstash";
import { nodeHandler } from "./node-http.js";

/**
 * Serves every job from one catch-all route, in either router:
 * - App Router, `app/api/jobs/[...job]/route.ts`: `export const { POST } = serve(jobs);` (Node.js or Edge runtime)
 * - Pages Router, `pages/api/jobs/[...job].ts`: `export default serve(jobs);` plus
 *   `export const config = { api: { bodyParser: false } };` so the raw body reaches the signature check.
 */
export function serve(jobs: AnyJobstash) {
  const handler = createHandler(jobs);
  const pages = nodeHandler(createReplyHandler(jobs));
  // biome-ignore lint/correctness/noComponentHookFactories: POST is Next's route-handler name, not a component.
  return Object.assign(pages, { POST: (request: Request) => handler(request) });
}
