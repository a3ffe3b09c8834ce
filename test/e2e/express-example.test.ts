import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { captureConsole } from "./harness.js";
import { sharedExampleScenarios } from "./shared-example.js";

/**
 * The Express example (examples/express, receiver mounted before express.json()) in this
 * process on a real port, against the jobstash dev server on a virtual clock.
 */
const lines = captureConsole();

sharedExampleScenarios("Express", async () => {
  const { app } = await import("../../examples/express/app.js");
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}/api/jobs`,
    signupUrl: `${origin}/signup`,
    output: () => lines,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
});
