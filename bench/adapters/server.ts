// One framework's servers for bench/adapters.bench.ts, in a process of its own:
// @hono/node-server replaces the global Request and Response with its lightweight classes
// when it starts, so an Express server sharing its process would not run as in an Express
// deployment. `node --import tsx bench/adapters/server.ts hono|express` prints the targets as
// one JSON line, then serves until stdin closes. Hono adds two references: the floor (see
// bench/lib/floor.ts) and the bare route plus a fixed busy-wait, which shows what a few
// microseconds of work per request cost in throughput on the machine at hand.
// Run with bench/adapters/tsconfig.json, "jobstash" is the built package, as users get it.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as listenHono } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { createJobstash, defineJob } from "jobstash";
import { serve as serveExpress } from "jobstash/express";
import { serve as serveHono } from "jobstash/hono";
import { z } from "zod";
import { KEYS } from "../../test/helpers/sign.js";
import { floorApp } from "../lib/floor.js";
import { BASE_URL, JOB_ID } from "./constants.js";

function benchJobs() {
  const job = defineJob({ id: JOB_ID, input: z.object({ n: z.number() }), run: () => ({ ok: true }) });
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

/** Microseconds the busy reference spends per request (BENCH_BUSY_US). */
const BUSY_US = Number(process.env.BENCH_BUSY_US ?? 8);

function bareHono(busyMicroseconds = 0): Hono {
  return new Hono().post("/api/jobs/:id", async (c) => {
    await c.req.arrayBuffer();
    // Wall-clock, so the work per request is the same however the loop is compiled.
    const until = performance.now() + busyMicroseconds / 1000;
    while (performance.now() < until);
    return c.json({ ok: true });
  });
}

const frameworks = {
  async hono() {
    const adapter = new Hono().route("/api/jobs", serveHono(benchJobs()));
    const [bare, jobstash, floor, busy] = await Promise.all([
      listenFetch(bareHono().fetch),
      listenFetch(adapter.fetch),
      listenFetch(floorApp().fetch),
      listenFetch(bareHono(BUSY_US).fetch),
    ]);
    return { bare, jobstash, floor, busy };
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
console.log(JSON.stringify({ ...urls, busyMicroseconds: BUSY_US }));
process.stdin.resume();
process.stdin.once("end", () => process.exit(0));
