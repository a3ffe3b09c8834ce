import express from "express";
import { serve } from "jobstash/express";
import { jobs } from "../shared/jobs.js";

/** The example app: the jobstash receiver at /api/jobs, mounted before express.json() on purpose. */
export const app = express()
  .use("/api/jobs", serve(jobs))
  .use(express.json())
  .post("/signup", async (req, res, next) => {
    try {
      const messageId = await jobs.trigger("send-welcome", { email: req.body.email, name: req.body.name });
      res.status(202).json({ messageId });
    } catch (error) {
      next(error);
    }
  });
