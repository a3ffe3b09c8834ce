// The conformance fixture behind the Hono adapter, running as a Worker: Hono passes the
// bindings as c.env and the ExecutionContext as c.executionCtx.
import { Hono } from "hono";
import { serve } from "jobstash/hono";
import { createFixture } from "../helpers/fixture";

const { jobs, seen } = createFixture({ fromEnv: true });

export default new Hono().get("/__seen", (c) => c.json(seen)).route("/api/jobs", serve(jobs));
