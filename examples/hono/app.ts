import { Hono } from "hono";
import { InvalidPayloadError } from "jobstash";
import { serve } from "jobstash/hono";
import { jobs } from "../shared/jobs.js";

/** The example app: the jobstash receiver at /api/jobs, and a route that triggers a job. */
export const app = new Hono().route("/api/jobs", serve(jobs)).post("/signup", async (c) => {
  try {
    const messageId = await jobs.trigger("send-welcome", await c.req.json());
    return c.json({ messageId }, 202);
  } catch (error) {
    // trigger validates before it publishes: a bad input is the caller's mistake, not a 500.
    if (error instanceof InvalidPayloadError)
      return c.json({ error: error.message, issues: error.issues }, 400);
    throw error;
  }
});
