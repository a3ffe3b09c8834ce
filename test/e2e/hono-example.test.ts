import type { Server } from "node:http";
import { serve as listen } from "@hono/node-server";
import { captureConsole } from "./harness.js";
import { sharedExampleScenarios } from "./shared-example.js";

/**
 * The whole path on real HTTP: the Hono example (examples/hono) triggers through the official
 * SDK into the jobstash dev server, which delivers signed requests back to the example's
 * receiver, retries, calls back, and keeps the DLQ; `syncJobstash` creates its cron schedule.
 * Time is virtual, so backoff and cron ticks take no wall time.
 */
const lines = captureConsole();

sharedExampleScenarios("Hono", async () => {
  const { app } = await import("../../examples/hono/app.js");
  // The example reads its configuration from process.env on each call, as in production.
  const server = await new Promise<{ server: Server; origin: string }>((resolve) => {
    const s = listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({ server: s as Server, origin: `http://127.0.0.1:${info.port}` }),
    );
  });
  return {
    baseUrl: `${server.origin}/api/jobs`,
    signupUrl: `${server.origin}/signup`,
    output: () => lines,
    close: () => new Promise((resolve) => server.server.close(() => resolve())),
  };
});
