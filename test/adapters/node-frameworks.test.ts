import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as honoNodeServe } from "@hono/node-server";
import express5 from "express";
import express4 from "express4";
import { Hono } from "hono";
import { serve as serveExpress } from "jobstash/express";
import { serve as serveHono } from "jobstash/hono";
import { conformance, type Running } from "./conformance.js";

function listening(server: Server): Promise<Running> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

function honoServer(app: Hono): Promise<Running> {
  return new Promise((resolve) => {
    const server = honoNodeServe({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
      resolve({
        origin: `http://127.0.0.1:${info.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

conformance({
  name: "Hono on @hono/node-server",
  start: (jobs) => honoServer(new Hono().route("/api/jobs", serveHono(jobs))),
  startWithParsedBody: (jobs) =>
    honoServer(
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
    start: (jobs) => listening(createServer(express().use("/api/jobs", serveExpress(jobs)))),
    startWithParsedBody: (jobs) =>
      listening(createServer(express().use(express.json()).use("/api/jobs", serveExpress(jobs)))),
  });
}
