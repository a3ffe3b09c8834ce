// One framework's pair of servers for bench/adapters.bench.ts, in a process of its own:
// @hono/node-server replaces the global Request and Response with its lightweight classes
// when it starts, so an Express server sharing its process would not run as in an Express
// deployment. `node --import tsx bench/adapters/server.ts hono|express` prints the two
// targets as one JSON line (Hono adds the floor, see bench/lib/floor.ts), then serves until stdin closes.
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

const frameworks = {
  async hono() {
    const bare = new Hono().post("/api/jobs/:id", async (c) => {
      await c.req.arrayBuffer();
      return c.json({ ok: true });
    });
    const adapter = new Hono().route("/api/jobs", serveHono(benchJobs()));
    return Promise.all([listenFetch(bare.fetch), listenFetch(adapter.fetch), listenFetch(floorApp().fetch)]);
  },
  async express() {
    const bare = express().post("/api/jobs/:id", express.raw({ type: "*/*" }), (_req, res) => {
      res.json({ ok: true });
    });
    const adapter = express().use("/api/jobs", serveExpress(benchJobs()));
    return Promise.all([listenExpress(bare), listenExpress(adapter)]);
  },
};

const name = process.argv[2] as keyof typeof frameworks;
if (!(name in frameworks)) throw new Error(`usage: server.ts ${Object.keys(frameworks).join("|")}`);
const [bare, adapter, floor] = await frameworks[name]();
const url = (origin: string) => `${origin}/api/jobs/${JOB_ID}`;
console.log(JSON.stringify({ bare: url(bare), jobstash: url(adapter), ...(floor && { floor: url(floor) }) }));
process.stdin.resume();
process.stdin.once("end", () => process.exit(0));
