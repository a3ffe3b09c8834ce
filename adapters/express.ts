import type { IncomingMessage, ServerResponse } from "node:http";
import { type AnyJobstash, createReplyHandler } from "jobstash";
import { nodeHandler } from "./node-http.js";

/**
 * Express (4 and 5) middleware serving every job: `app.use("/api/jobs", serve(jobs))`.
 * Mount it before `express.json()`: the signature covers the raw body.
 */
export function serve(jobs: AnyJobstash) {
  const handle = nodeHandler(createReplyHandler(jobs));
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    handle(req, res).catch(next);
  };
}
