import express from "express";
import { InvalidPayloadError } from "jobstash";
import { serve } from "jobstash/express";
import { jobs } from "../shared/jobs.js";

/** The example app: the jobstash receiver at /api/jobs, mounted before express.json() on purpose. */
export const app = express()
  .use("/api/jobs", serve(jobs))
  .use(express.json())
  .post("/signup", async (req, res, next) => {
    try {
      const messageId = await jobs.trigger("send-welcome", req.body);
      res.status(202).json({ messageId });
    } catch (error) {
      // trigger validates before it publishes: a bad input is the caller's mistake, not a 500.
      if (error instanceof InvalidPayloadError)
        res.status(400).json({ error: error.message, issues: error.issues });
      else next(error);
    }
  });
