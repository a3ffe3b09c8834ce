// Dev-server benchmark: end-to-end messages/s (published through the HTTP API, delivered
// signed to a local endpoint, acknowledged) next to the raw ceiling measured in the same run
// (one thread POSTing signed 1 KB bodies straight to the same endpoint over a keep-alive agent
// at the same concurrency), in memory and with a data directory (every publish synced to disk
// before it is answered); then RSS for 100,000 delayed messages in both modes, and how long a
// restart with 100,000 pending messages takes to be ready.
//
// The endpoint (a Hono app on @hono/node-server) and the load generator run in worker threads
// so the dev server's event loop is its own, as it would be next to a real app.
// `npm run bench -- dev-server`; BENCH_MESSAGES, BENCH_CONCURRENCY, BENCH_ROUNDS and
// BENCH_DELAYED change the sizes.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { createDevServer, DEV_USERS } from "jobstash/dev-server";

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const DELAYED = Number(process.env.BENCH_DELAYED ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const user = DEV_USERS.defaultUser;

// The receiving app: a Hono endpoint on @hono/node-server that reads the body and answers 200.
const endpointCode = `
const { parentPort, workerData } = require("node:worker_threads");
const { Hono } = require(workerData.hono);
const { serve } = require(workerData.honoNode);
let target = Infinity, count = 0;
const app = new Hono();
app.post("/api/jobs/:job", async (c) => {
  await c.req.arrayBuffer();
  if (++count === target) parentPort.postMessage({ done: true });
  return c.text("ok");
});
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => parentPort.postMessage({ port: info.port }));
server.keepAliveTimeout = 60_000;
parentPort.on("message", (m) => { if (m.target !== undefined) { count = 0; target = m.target; parentPort.postMessage({ ready: true }); } });
`;

const loadCode = `
const http = require("node:http");
const crypto = require("node:crypto");
const { parentPort } = require("node:worker_threads");
const body = Buffer.alloc(1024, "x");
const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url");
function sign(key, sub) {
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(JSON.stringify({ iss: "Upstash", sub, exp: now + 300, nbf: 0, iat: now,
    jti: "jwt_" + crypto.randomBytes(8).toString("hex"),
    body: crypto.createHash("sha256").update(body).digest("base64url") + "=" })).toString("base64url");
  const input = header + "." + payload;
  return input + "." + crypto.createHmac("sha256", key).update(input).digest("base64url");
}
parentPort.on("message", ({ mode, url, n, concurrency, token, key }) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL(url);
  let issued = 0, failed = 0;
  const one = () => new Promise((resolve) => {
    const headers = { "content-type": "application/octet-stream", "content-length": body.length };
    if (mode === "publish") { headers.authorization = "Bearer " + token; headers["upstash-retries"] = "0"; }
    else { headers["upstash-signature"] = sign(key, url); headers["upstash-message-id"] = "msg_" + issued; headers["upstash-retried"] = "0"; }
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: "POST", agent, headers }, (res) => {
      if (res.statusCode >= 300) failed++;
      res.on("data", () => {}); res.on("end", resolve);
    });
    req.on("error", () => { failed++; resolve(); });
    req.end(body);
  });
  const loop = async () => { while (issued < n) { issued++; await one(); } };
  Promise.all(Array.from({ length: concurrency }, loop)).then(() => { agent.destroy(); parentPort.postMessage({ sent: issued, failed }); });
});
`;

const require = createRequire(import.meta.url);

function worker(code: string): Worker {
  return new Worker(code, {
    eval: true,
    workerData: { hono: require.resolve("hono"), honoNode: require.resolve("@hono/node-server") },
  });
}

function next<T>(w: Worker, test: (m: any) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: any) => {
      if (test(m)) {
        w.off("message", on);
        resolve(m);
      }
    };
    w.on("message", on);
  });
}

async function run(load: Worker, endpoint: Worker, msg: object, n: number): Promise<number> {
  endpoint.postMessage({ target: n });
  await next(endpoint, (m) => m.ready);
  const done = next(endpoint, (m) => m.done);
  const sent = next<{ failed: number }>(load, (m) => m.sent !== undefined);
  const start = performance.now();
  load.postMessage(msg);
  const { failed } = await sent;
  if (failed) throw new Error(`${failed} requests failed`);
  await done;
  return n / ((performance.now() - start) / 1000);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function throughput() {
  const endpoint = worker(endpointCode);
  const { port } = await next<{ port: number }>(endpoint, (m) => m.port);
  const endpointUrl = `http://127.0.0.1:${port}/api/jobs/bench`;
  const load = worker(loadCode);
  const server = createDevServer();
  const listening = await server.listen({ port: 0 });
  const dataDir = mkdtempSync(join(tmpdir(), "jobstash-bench-"));
  const durable = createDevServer({ dataDir });
  const durableListening = await durable.listen({ port: 0 });
  const publishUrl = `${listening.url}/v2/publish/${endpointUrl}`;
  const durableUrl = `${durableListening.url}/v2/publish/${endpointUrl}`;
  const common = { n: N, concurrency: CONCURRENCY, token: user.token, key: user.currentSigningKey };

  // Warm up every path (JIT, sockets). Then alternate the runs: on a shared 2-core machine the
  // available CPU drifts, so each round's ratios compare runs taken seconds apart, and the
  // median round is reported.
  await run(load, endpoint, { ...common, n: 2000, mode: "direct", url: endpointUrl }, 2000);
  await run(load, endpoint, { ...common, n: 2000, mode: "publish", url: publishUrl }, 2000);
  await run(load, endpoint, { ...common, n: 2000, mode: "publish", url: durableUrl }, 2000);
  const rounds: { ceiling: number; e2e: number; disk: number; ratio: number; diskRatio: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ceiling = await run(load, endpoint, { ...common, mode: "direct", url: endpointUrl }, N);
    const e2e = await run(load, endpoint, { ...common, mode: "publish", url: publishUrl }, N);
    const disk = await run(load, endpoint, { ...common, mode: "publish", url: durableUrl }, N);
    rounds.push({ ceiling, e2e, disk, ratio: e2e / ceiling, diskRatio: disk / e2e });
  }
  console.log(`messages per run: ${N}, concurrency: ${CONCURRENCY}, body: 1 KB, rounds: ${ROUNDS}`);
  for (const [i, r] of rounds.entries()) {
    console.log(
      `  round ${i + 1}: ceiling ${r.ceiling.toFixed(0)} msg/s, end to end ${r.e2e.toFixed(0)} msg/s (${r.ratio.toFixed(2)}x), with --data ${r.disk.toFixed(0)} msg/s (${r.diskRatio.toFixed(2)}x of in memory)`,
    );
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  const diskMedian = [...rounds].sort((a, b) => a.diskRatio - b.diskRatio)[Math.floor(rounds.length / 2)]!;
  console.log(`raw ceiling (signed POSTs straight to the endpoint): ${median.ceiling.toFixed(0)} msg/s`);
  console.log(`end to end (publish -> dev server -> signed delivery -> ack): ${median.e2e.toFixed(0)} msg/s`);
  console.log(`ratio (median round): ${median.ratio.toFixed(2)}x (target >= 0.35x)`);
  console.log(
    `with --data (each publish synced before it is answered): ${diskMedian.disk.toFixed(0)} msg/s, ${diskMedian.diskRatio.toFixed(2)}x of in memory in the same round (median; target >= 0.7x)`,
  );
  await server.close();
  await durable.close();
  rmSync(dataDir, { recursive: true, force: true });
  await load.terminate();
  await endpoint.terminate();
}

/** Runs dev-server-memory.mjs (the built code, in a plain node process of its own); its JSON line. */
async function measure(env: Record<string, string>): Promise<any> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", fileURLToPath(new URL("./dev-server-memory.mjs", import.meta.url))],
      {
        env: { ...process.env, BENCH_DELAYED: String(DELAYED), ...env },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let text = "";
    child.stdout.on("data", (c: Buffer) => {
      text += c;
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`memory run exited with ${code}`)),
    );
  });
  const r = JSON.parse(out.trim().split("\n").pop()!);
  if (r.pending !== DELAYED) throw new Error(`expected ${DELAYED} pending messages, found ${r.pending}`);
  return r;
}

/** RSS for DELAYED delayed messages, in memory and (1 KB bodies) with a data directory, then a restart. */
async function memory(bodySize: number) {
  const r = await measure({ BENCH_BODY: String(bodySize) });
  const line = (what: string, m: any) =>
    `${DELAYED} delayed messages, ${bodySize} B bodies, ${what} (published over HTTP in ${m.seconds.toFixed(1)} s): RSS ${mb(m.rss)} (${mb(m.rssBefore)} idle), heap ${mb(m.heapUsed)} used of ${mb(m.heapTotal)}`;
  console.log(`${line("in memory", r)}; target < 250 MB RSS`);
  if (bodySize !== 1024) return;
  const dir = mkdtempSync(join(tmpdir(), "jobstash-bench-"));
  try {
    const d = await measure({ BENCH_BODY: String(bodySize), BENCH_DATA_DIR: dir });
    console.log(`${line("with --data", d)}; ${(d.rss / r.rss).toFixed(2)}x the in-memory RSS (target <= 1x)`);
    const restart = await measure({ BENCH_DATA_DIR: dir, BENCH_RESTART: "1" });
    console.log(
      `restart with ${DELAYED} pending messages in --data: serving after ${restart.ready.toFixed(2)} s (process start to a first answer; target < 3 s), RSS ${mb(restart.rss)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Memory first; each memory run is its own process, so nothing here skews it.
if (process.env.BENCH_ONLY !== "throughput") {
  await memory(1024);
  await memory(256);
}
if (process.env.BENCH_ONLY !== "memory") await throughput();
