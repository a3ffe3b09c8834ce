// The conformance fixture as a Worker: module-style at /api/jobs, Pages-style under /pages.
// Configuration comes from the bindings, as in production.
import { serve } from "jobstash/workers";
import { createFixture } from "../helpers/fixture.js";

const { jobs, seen } = createFixture({ fromEnv: true });
const receive = serve(jobs);

export default {
  fetch(request: Request, env: Record<string, unknown>, ctx: { waitUntil(promise: Promise<unknown>): void }) {
    const { pathname } = new URL(request.url);
    if (pathname.endsWith("/__seen")) return Response.json(seen);
    if (pathname.startsWith("/pages/")) return receive({ request, env, waitUntil: (p) => ctx.waitUntil(p) });
    return receive(request, env, ctx);
  },
};
