import { Hono } from "hono";
import { serve } from "jobstash/hono";
import { jobs } from "../shared/jobs.js";

/** The example app: the jobstash receiver at /api/jobs, and a route that triggers a job. */
export const app = new Hono().route("/api/jobs", serve(jobs)).post("/signup", async (c) => {
  const { email, name } = await c.req.json<{ email: string; name: string }>();
  const messageId = await jobs.trigger("send-welcome", { email, name });
  return c.json({ messageId }, 202);
});
