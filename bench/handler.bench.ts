// Receiver benchmark (`npm run bench -- handler`): requests per second of a Hono server that
// mounts jobstash's `createHandler`, side by side with a bare Hono endpoint (the ceiling: no
// verification at all) and a Hono endpoint verifying with the official `Receiver` from
// @upstash/qstash (what users would write by hand), and the floor (bench/lib/floor.ts: only the
// verification, inline), which shows what the targets ask of any verifying receiver. Then the
// CPU cost of one verification in-process, without HTTP.
//
// The four servers live in this process; autocannon runs in a child process so the load
// generator does not share an event loop with the server under test (the machine has two
// cores: one for each). Targets are measured interleaved over several rounds, and the ratios
// are taken within each round before the median, so machine noise hits all of them alike.
// The in-process part runs after the servers have started, so Request and Response there are
// @hono/node-server's lightweight globals, as in a node-server deployment.
//
// Targets (from the issue): jobstash >= 0.6x bare and >= 1.5x official. A missed target is
// reported as FAIL but exits 0; a harness error (a non-2xx response, a connection error, a
// server that does not start) exits 1, since a benchmark that measured 401s is worthless.
//
// Knobs: BENCH_ROUNDS (3), BENCH_DURATION seconds (5), BENCH_WARMUP seconds (1),
// BENCH_CONNECTIONS (50), BENCH_ITERATIONS for the in-process part (20000).
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Receiver } from "@upstash/qstash";
import { Hono } from "hono";
import { createHandler, createJobstash, defineJob } from "jobstash";
import { z } from "zod";
import { verifySignature } from "../src/handler/verify.js";
import { KEYS } from "../test/helpers/sign.js";
import { floorApp } from "./lib/floor.js";
import {
  HarnessError,
  loadSettings,
  measureInterleaved,
  printRatio,
  printTable,
  ratio,
  runMain,
  signedRequest,
} from "./lib/load.js";

const SETTINGS = loadSettings();
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);

const TARGET_VS_BARE = 0.6;
const TARGET_VS_OFFICIAL = 1.5;

// The public URL both verifying servers check `sub` against; the load itself goes to localhost.
const BASE_URL = "http://bench.local/api/jobs";
const JOB_ID = "bench";
const PUBLIC_URL = `${BASE_URL}/${JOB_ID}`;
const REQUEST = signedRequest(PUBLIC_URL, JSON.stringify({ n: 1 }));
const BODY = REQUEST.body;
const SIGNATURE = REQUEST.headers["upstash-signature"]!;

const input = z.object({ n: z.number() });

// --- the servers ---------------------------------------------------------------------

function bareApp(): Hono {
  const app = new Hono();
  app.post("/api/jobs/:id", async (c) => {
    await c.req.arrayBuffer();
    return c.json({ ok: true });
  });
  return app;
}

function jobstashHandler() {
  const job = defineJob({ id: JOB_ID, input, run: () => ({ ok: true }) });
  const jobs = createJobstash({
    app: "bench",
    jobs: [job],
    baseUrl: BASE_URL,
    signingKeys: KEYS,
    env: {},
  });
  return createHandler(jobs);
}

function jobstashApp(): Hono {
  const handler = jobstashHandler();
  const app = new Hono();
  app.all("/api/jobs/*", (c) => handler(c.req.raw));
  return app;
}

function officialReceiver(): Receiver {
  return new Receiver({ currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
}

function officialApp(): Hono {
  const receiver = officialReceiver();
  const app = new Hono();
  app.post("/api/jobs/:id", async (c) => {
    const body = await c.req.text();
    try {
      await receiver.verify({
        signature: c.req.header("upstash-signature") ?? "",
        body,
        url: `${BASE_URL}/${c.req.param("id")}`,
      });
    } catch {
      return c.json({ error: "invalid signature" }, 401);
    }
    const parsed = input.safeParse(JSON.parse(body));
    if (!parsed.success) return c.json({ error: "invalid payload" }, 400);
    return c.json({ ok: true });
  });
  return app;
}

function listen(app: Hono): Promise<{ server: ServerType; url: string }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({ server, url: `http://127.0.0.1:${info.port}/api/jobs/${JOB_ID}` }),
    );
    server.once("error", reject);
  });
}

// --- in-process CPU cost -------------------------------------------------------------------

async function cpuPerCall(iterations: number, call: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(2000, iterations); i++) await call(i);
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await call(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

async function measureCpu(): Promise<{ name: string; us: number }[]> {
  const handler = jobstashHandler();
  const receiver = officialReceiver();
  const bodyBytes = new TextEncoder().encode(BODY);
  const keys = { current: KEYS.current, next: KEYS.next };
  const request = () =>
    new Request(`http://127.0.0.1/api/jobs/${JOB_ID}`, {
      method: "POST",
      body: BODY,
      headers: { "content-type": "application/json", "upstash-signature": SIGNATURE },
    });

  const requestOnly = await cpuPerCall(ITERATIONS, async () => request().arrayBuffer());
  const handlerCost = await cpuPerCall(ITERATIONS, async () => {
    const response = await handler(request());
    if (response.status !== 200) throw new HarnessError(`handler answered ${response.status}`);
    await response.arrayBuffer();
  });
  const verifyCost = await cpuPerCall(ITERATIONS, () =>
    verifySignature(SIGNATURE, bodyBytes, { keys, clockTolerance: 5 }),
  );
  const officialCost = await cpuPerCall(ITERATIONS, () =>
    receiver.verify({ signature: SIGNATURE, body: BODY, url: PUBLIC_URL }),
  );
  const officialFull = await cpuPerCall(ITERATIONS, async () => {
    const req = request();
    const body = await req.text();
    await receiver.verify({ signature: req.headers.get("upstash-signature")!, body, url: PUBLIC_URL });
    input.parse(JSON.parse(body));
    await new Response(JSON.stringify({ ok: true })).arrayBuffer();
  });
  return [
    { name: "jobstash verifySignature (JWT + body hash)", us: verifyCost },
    { name: "official Receiver.verify", us: officialCost },
    { name: "jobstash handler, whole request*", us: handlerCost },
    { name: "official verify + parse + zod + Response*", us: officialFull },
    { name: "  * of which building and reading the Request", us: requestOnly },
  ];
}

// --- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const targets = [
    { name: "bare", app: bareApp() },
    { name: "jobstash", app: jobstashApp() },
    { name: "official", app: officialApp() },
    { name: "floor", app: floorApp() },
  ];
  // The servers share this process, which is otherwise idle while autocannon (a child) runs.
  const servers = await Promise.all(
    targets.map(async (t) => ({ ...t, pid: process.pid, ...(await listen(t.app)) })),
  );
  try {
    console.log(
      `node ${process.version}; ${SETTINGS.connections} connections, ${SETTINGS.warmup}s warm-up + ${SETTINGS.duration}s per target, ${SETTINGS.rounds} interleaved rounds`,
    );
    const measured = await measureInterleaved(servers, REQUEST, SETTINGS);
    printTable(measured);
    console.log();
    printRatio("jobstash / bare", ratio(measured, "jobstash", "bare"), TARGET_VS_BARE);
    printRatio("jobstash / official", ratio(measured, "jobstash", "official"), TARGET_VS_OFFICIAL);
    // What the targets ask of any verifying receiver: the same ratios for the floor.
    console.log(`  ${"floor / bare".padEnd(28)} ${ratio(measured, "floor", "bare").toFixed(2)}x`);
    console.log(`  ${"floor / official".padEnd(28)} ${ratio(measured, "floor", "official").toFixed(2)}x`);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.server.close(resolve))));
  }

  console.log(`\nCPU per request in-process (no HTTP), ${ITERATIONS} iterations each after a warm-up:`);
  for (const row of await measureCpu()) {
    console.log(`  ${row.name.padEnd(46)} ${row.us.toFixed(1).padStart(6)} µs`);
  }
}

runMain(main);
