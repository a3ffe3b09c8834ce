// One framework's servers for bench/adapters.bench.ts, in a process of its own:
// @hono/node-server replaces the global Request and Response with its lightweight classes
// when it starts, so an Express server sharing its process would not run as in an Express
// deployment. `node --import tsx bench/adapters/server.ts hono|express` prints the targets as
// one JSON line, then serves until stdin closes. Hono adds two references (bench/lib/reference.ts):
// the hand-written route, the least any verifying receiver does, and the official `Receiver`.
// Every Hono route is mounted as an app mounts jobstash's, `app.route("/api/jobs", ...)`.
// Run with bench/adapters/tsconfig.json, "jobstash" is the built package, as users get it.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as listenHono } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { createJobstash, defineJob } from "jobstash";
import { serve as serveExpress } from "jobstash/express";
import { serve as serveHono } from "jobstash/hono";
import { KEYS } from "../../test/helpers/sign.js";
import { bareRoute, benchInput, handWrittenRoute, officialRoute } from "../lib/reference.js";
import { BASE_URL, JOB_ID } from "./constants.js";

function benchJobs() {
  const job = defineJob({ id: JOB_ID, input: benchInput(), run: () => ({ ok: true }) });
  return createJobstash({ app: "bench", jobs: [job], baseUrl: BASE_URL, signingKeys: KEYS, env: {} });
}

function listenFetch(fetch: Hono["fetch"]): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = listenHono({ fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}`),
    ) as Server;
    server.once("error", reject);
  });
}

function listenExpress(app: express.Express): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
    server.once("error", reject);
  });
}

/** A Hono app serving `routes` at /api/jobs, the way the README mounts jobstash. */
const mounted = (routes: Hono) => new Hono().route("/api/jobs", routes).fetch;

const frameworks = {
  async hono() {
    const [bare, jobstash, handWritten, official] = await Promise.all([
      listenFetch(mounted(bareRoute())),
      listenFetch(mounted(serveHono(benchJobs()))),
      listenFetch(mounted(handWrittenRoute(BASE_URL))),
      listenFetch(mounted(officialRoute(BASE_URL))),
    ]);
    return { bare, jobstash, "hand-written": handWritten, official };
  },
  async express() {
    const bareApp = express().post("/api/jobs/:id", express.raw({ type: "*/*" }), (_req, res) => {
      res.json({ ok: true });
    });
    const adapter = express().use("/api/jobs", serveExpress(benchJobs()));
    const [bare, jobstash] = await Promise.all([listenExpress(bareApp), listenExpress(adapter)]);
    return { bare, jobstash };
  },
};

const name = process.argv[2] as keyof typeof frameworks;
if (!(name in frameworks)) throw new Error(`usage: server.ts ${Object.keys(frameworks).join("|")}`);
const origins: Record<string, string> = await frameworks[name]();
const urls = Object.fromEntries(
  Object.entries(origins).map(([k, origin]) => [k, `${origin}/api/jobs/${JOB_ID}`]),
);
console.log(JSON.stringify(urls));
process.stdin.resume();
process.stdin.once("end", () => process.exit(0));
