// An app on its own hono release that mounts jobstash/hono as the README says, served by
// @hono/node-server. test/adapters/hono-release.test.ts installs it with another hono 4.x than
// jobstash's own, type-checks it and delivers to it. Configuration comes from the environment.
import { serve as listen } from "@hono/node-server";
import { Hono } from "hono";
import { createJobstash, defineJob } from "jobstash";
import { serve } from "jobstash/hono";
import { z } from "zod";

const double = defineJob({
  id: "double",
  input: z.object({ n: z.number() }),
  run: (input) => ({ doubled: input.n * 2 }),
});
const jobs = createJobstash({ app: "hono-release", jobs: [double] });

const app = new Hono();
app.get("/", (c) => c.text("the app's own route"));
app.route("/api/jobs", serve(jobs));

listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(JSON.stringify({ port: info.port }));
});
