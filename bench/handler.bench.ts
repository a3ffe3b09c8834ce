// Receiver benchmark (`npm run bench -- handler`): requests per second of a Hono server that
// mounts jobstash's `createHandler` directly (no adapter), side by side with the routes of
// bench/lib/reference.ts: bare (the ceiling: no verification at all), hand-written (the least
// any verifying receiver does) and official (the `Receiver` from @upstash/qstash), all answering
// the same 1 KB delivery. Then the CPU cost of one verification in-process, without HTTP.
//
// The four servers live in this process; autocannon runs in a child process so the load
// generator does not share an event loop with the server under test (the machine has two
// cores: one for each). Targets are measured interleaved over several rounds, and the ratios
// are taken within each round before the median, so machine noise hits all of them alike.
// The in-process part runs after the servers have started, so Request and Response there are
// @hono/node-server's lightweight globals, as in a node-server deployment.
//
// Targets (issue 15): jobstash >= 0.9x hand-written and >= 1.6x official. A missed target is
// reported as FAIL but exits 0; a harness error (a non-2xx response, a connection error, a
// server that does not start) exits 1, since a benchmark that measured 401s is worthless.
//
// Knobs: BENCH_ROUNDS (3), BENCH_DURATION seconds (5), BENCH_WARMUP seconds (1),
// BENCH_CONNECTIONS (10), BENCH_ITERATIONS for the in-process part (20000).
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Receiver } from "@upstash/qstash";
import { Hono } from "hono";
import { createHandler, createJobstash, defineJob } from "jobstash";
import { verifySignature } from "../src/handler/verify.js";
import { KEYS } from "../test/helpers/sign.js";
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
import { BENCH_BODY, bareRoute, benchInput, handWrittenRoute, officialRoute } from "./lib/reference.js";

const SETTINGS = loadSettings({ connections: 10 });
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);

const TARGET_VS_HAND_WRITTEN = 0.9;
const TARGET_VS_OFFICIAL = 1.6;

// The public URL every verifying server checks `sub` against; the load itself goes to localhost.
const BASE_URL = "http://bench.local/api/jobs";
const JOB_ID = "bench";
const PUBLIC_URL = `${BASE_URL}/${JOB_ID}`;
const REQUEST = signedRequest(PUBLIC_URL, BENCH_BODY);
const BODY = REQUEST.body;
const SIGNATURE = REQUEST.headers["upstash-signature"]!;

const input = benchInput();

// --- the servers ---------------------------------------------------------------------

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
  return new Hono().all("/api/jobs/*", (c) => handler(c.req.raw));
}

function officialReceiver(): Receiver {
  return new Receiver({ currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
}

const mounted = (routes: Hono) => new Hono().route("/api/jobs", routes);

function listen(app: Hono): Promise<{ server: ServerType; url: string }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) =>
      resolve({ server, url: `http://127.0.0.1:${info.port}/api/jobs/${JOB_ID}` }),
    );
    server.once("error", reject);
  });
}

// --- in-process CPU cost -------------------------------------------------------------------

async function cpuPerCall(iterations: number, call: (i: number) => unknown): Promise<number> {
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
    { name: "bare", app: mounted(bareRoute()) },
    { name: "jobstash", app: jobstashApp() },
    { name: "hand-written", app: mounted(handWrittenRoute(BASE_URL)) },
    { name: "official", app: mounted(officialRoute(BASE_URL)) },
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
    printRatio(
      "jobstash / hand-written",
      ratio(measured, "jobstash", "hand-written"),
      TARGET_VS_HAND_WRITTEN,
    );
    printRatio("jobstash / official", ratio(measured, "jobstash", "official"), TARGET_VS_OFFICIAL);
    // What the verification costs any receiver, against no verification at all.
    for (const name of ["jobstash", "hand-written", "official"]) {
      console.log(`  ${`${name} / bare`.padEnd(28)} ${ratio(measured, name, "bare").toFixed(2)}x`);
    }
    // The floor against the official Receiver: the most any receiver could reach over it here.
    console.log(
      `  ${"hand-written / official".padEnd(28)} ${ratio(measured, "hand-written", "official").toFixed(2)}x`,
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.server.close(resolve))));
  }

  console.log(`\nCPU per request in-process (no HTTP), ${ITERATIONS} iterations each after a warm-up:`);
  for (const row of await measureCpu()) {
    console.log(`  ${row.name.padEnd(46)} ${row.us.toFixed(1).padStart(6)} µs`);
  }
}

runMain(main);
