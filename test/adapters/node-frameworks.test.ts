import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as honoNodeServe } from "@hono/node-server";
import express5 from "express";
import express4 from "express4";
import { Hono } from "hono";
import type { AnyJobstash } from "jobstash";
import { serve as serveExpress } from "jobstash/express";
import { serve as serveHono } from "jobstash/hono";
import { createFixture } from "../helpers/fixture.js";
import { conformance, type Running } from "./conformance.js";

function close(server: Server): () => Promise<void> {
  return () => new Promise((done) => server.close(() => done()));
}

/** Start `app(jobs)` on a real Node server with a fresh fixture. */
function nodeApp(app: (jobs: AnyJobstash) => RequestListener): Promise<Running> {
  const { jobs, seen } = createFixture();
  const server = createServer(app(jobs));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ origin: `http://127.0.0.1:${port}`, seen: async () => seen, close: close(server) });
    });
  });
}

/** Hono on its own Node server, @hono/node-server. */
function honoApp(app: (jobs: AnyJobstash) => Hono): Promise<Running> {
  const { jobs, seen } = createFixture();
  return new Promise((resolve) => {
    const server = honoNodeServe({ fetch: app(jobs).fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      resolve({
        origin: `http://127.0.0.1:${info.port}`,
        seen: async () => seen,
        close: close(server as Server),
      });
    });
  });
}

conformance({
  name: "Hono on @hono/node-server",
  start: () => honoApp((jobs) => new Hono().route("/api/jobs", serveHono(jobs))),
  startWithParsedBody: () =>
    honoApp((jobs) =>
      new Hono()
        .use("/api/jobs/*", async (c, next) => {
          await c.req.json();
          await next();
        })
        .route("/api/jobs", serveHono(jobs)),
    ),
});

for (const [name, express] of [
  ["Express 5", express5],
  ["Express 4", express4],
] as const) {
  conformance({
    name,
    start: () => nodeApp((jobs) => express().use("/api/jobs", serveExpress(jobs))),
    startWithParsedBody: () =>
      nodeApp((jobs) => express().use(express.json()).use("/api/jobs", serveExpress(jobs))),
  });
}
