// Receiver benchmark (`npm run bench -- handler`): requests per second of a Hono server that
// mounts jobstash's `createHandler`, side by side with a bare Hono endpoint (the ceiling: no
// verification at all) and a Hono endpoint verifying with the official `Receiver` from
// @upstash/qstash (what users would write by hand). Then the CPU cost of one verification
// in-process, without HTTP.
//
// The three servers live in this process; autocannon runs in a child process so the load
// generator does not share an event loop with the server under test (the machine has two
// cores: one for each). Targets are measured interleaved over several rounds, and the ratios
// are taken within each round before the median, so machine noise hits all three alike.
// The in-process part runs after the servers have started, so Request and Response there are
// @hono/node-server's lightweight globals, as in a node-server deployment.
//
// Targets (from the issue): jobstash >= 0.6x bare and >= 1.5x official. A missed target is
// reported as FAIL but exits 0; a harness error (a non-2xx response, a connection error, a
// server that does not start) exits 1, since a benchmark that measured 401s is worthless.
//
// Knobs: BENCH_ROUNDS (3), BENCH_DURATION seconds (5), BENCH_WARMUP seconds (1),
// BENCH_CONNECTIONS (50), BENCH_ITERATIONS for the in-process part (20000).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Receiver } from "@upstash/qstash";
import { Hono } from "hono";
import { createHandler, createJobstash, defineJob } from "jobstash";
import { z } from "zod";
import { verifySignature } from "../src/handler/verify.js";
import { KEYS, sign } from "../test/helpers/sign.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);

const TARGET_VS_BARE = 0.6;
const TARGET_VS_OFFICIAL = 1.5;

// The public URL both verifying servers check `sub` against; the load itself goes to localhost.
const BASE_URL = "http://bench.local/api/jobs";
const JOB_ID = "bench";
const PUBLIC_URL = `${BASE_URL}/${JOB_ID}`;
const BODY = JSON.stringify({ n: 1 });
// One token for every request: valid for an hour, far longer than the run.
const SIGNATURE = sign({
  url: PUBLIC_URL,
  body: BODY,
  key: KEYS.current,
  claims: { exp: Math.floor(Date.now() / 1000) + 3600 },
});

const input = z.object({ n: z.number() });

class HarnessError extends Error {}

// --- the three servers ---------------------------------------------------------------------

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

// --- load ----------------------------------------------------------------------------------

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}

const autocannonBin = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

/** One autocannon run in a child process; resolves to its JSON result. */
function autocannon(url: string, seconds: number): Promise<AutocannonResult> {
  const args = [
    autocannonBin,
    "--json",
    "-c",
    String(CONNECTIONS),
    "-d",
    String(seconds),
    "-m",
    "POST",
    "-H",
    "content-type=application/json",
    "-H",
    `upstash-signature=${SIGNATURE}`,
    "-H",
    "upstash-message-id=msg_bench",
    "-H",
    "upstash-retried=0",
    "-b",
    BODY,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new HarnessError(`autocannon exited with ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(stdout) as AutocannonResult);
      } catch {
        reject(new HarnessError(`autocannon printed no JSON: ${stdout}${stderr}`));
      }
    });
  });
}

function checkAll2xx(name: string, result: AutocannonResult): void {
  if (result.requests.total === 0) throw new HarnessError(`${name}: no request completed`);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new HarnessError(
      `${name}: ${result.non2xx} non-2xx responses, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `(status codes ${JSON.stringify(result.statusCodeStats)}); the numbers would not measure the success path`,
    );
  }
}

/** A single request through fetch, so a broken target fails before any load is spent on it. */
async function probe(name: string, url: string): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    body: BODY,
    headers: { "content-type": "application/json", "upstash-signature": SIGNATURE },
  });
  const text = await response.text();
  if (response.status !== 200) throw new HarnessError(`${name}: probe answered ${response.status}: ${text}`);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

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
    { name: "  (* includes building the Request and reading it)", us: requestOnly },
  ];
}

// --- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const targets = [
    { name: "bare", app: bareApp() },
    { name: "jobstash", app: jobstashApp() },
    { name: "official", app: officialApp() },
  ];
  const servers = await Promise.all(targets.map(async (t) => ({ ...t, ...(await listen(t.app)) })));
  try {
    for (const s of servers) await probe(s.name, s.url);

    console.log(
      `node ${process.version}; ${CONNECTIONS} connections, ${WARMUP}s warm-up + ${DURATION}s per target, ${ROUNDS} interleaved rounds`,
    );
    const rps: Record<string, number[]> = Object.fromEntries(servers.map((s) => [s.name, []]));
    const p99: Record<string, number[]> = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const s of servers) {
        if (WARMUP > 0) checkAll2xx(`${s.name} (warm-up)`, await autocannon(s.url, WARMUP));
        const result = await autocannon(s.url, DURATION);
        checkAll2xx(s.name, result);
        rps[s.name]!.push(result.requests.average);
        p99[s.name]!.push(result.latency.p99);
        line.push(`${s.name} ${Math.round(result.requests.average)}`);
      }
      console.log(`round ${round}: ${line.join(", ")} req/s`);
    }

    const med = (name: string) => median(rps[name]!);
    console.log("\nmedian of rounds        req/s    best   p99 ms");
    for (const s of servers) {
      console.log(
        `  ${s.name.padEnd(20)} ${String(Math.round(med(s.name))).padStart(7)} ${String(
          Math.round(Math.max(...rps[s.name]!)),
        ).padStart(7)} ${String(median(p99[s.name]!)).padStart(8)}`,
      );
    }
    // Ratios are taken within each round (the targets ran back to back there, under the same
    // background load), then the median over rounds: steadier than a ratio of two medians.
    const ratio = (a: string, b: string) => median(rps[a]!.map((value, round) => value / rps[b]![round]!));
    const vsBare = ratio("jobstash", "bare");
    const vsOfficial = ratio("jobstash", "official");
    const verdict = (value: number, target: number) => (value >= target ? "PASS" : "FAIL");
    console.log(
      `\n  jobstash / bare       ${vsBare.toFixed(2)}x  (target >= ${TARGET_VS_BARE}x)  ${verdict(vsBare, TARGET_VS_BARE)}`,
    );
    console.log(
      `  jobstash / official   ${vsOfficial.toFixed(2)}x  (target >= ${TARGET_VS_OFFICIAL}x)  ${verdict(vsOfficial, TARGET_VS_OFFICIAL)}`,
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.server.close(resolve))));
  }

  console.log(`\nCPU per request in-process (no HTTP), ${ITERATIONS} iterations each after a warm-up:`);
  for (const row of await measureCpu()) {
    console.log(`  ${row.name.padEnd(46)} ${row.us.toFixed(1).padStart(6)} µs`);
  }
}

main().catch((error) => {
  console.error(error instanceof HarnessError ? `bench failed: ${error.message}` : error);
  process.exit(1);
});
