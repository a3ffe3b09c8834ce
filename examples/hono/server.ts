// `npx tsx examples/hono/server.ts`: the Hono example on Node. Point it at QStash (or the
// jobstash dev server) with QSTASH_URL, QSTASH_TOKEN, the signing keys and JOBSTASH_BASE_URL.
import { serve } from "@hono/node-server";
import { app } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => {
  console.log(`hono example on http://127.0.0.1:${port} (jobs at /api/jobs)`);
});
