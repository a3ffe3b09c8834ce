// Adapter throughput (`npm run bench -- adapters`): requests per second through each Node
// adapter, all hit with the same signed delivery (a 1 KB JSON body, bench/lib/reference.ts) for
// a trivial job whose zod input matches it, against references in the same framework:
//
//   Hono     @hono/node-server, `app.route("/api/jobs", serve(jobs))` from jobstash/hono, and
//            three routes mounted the same way (bench/lib/reference.ts): bare (reads the body,
//            answers `{ ok: true }`), hand-written (the least any verifying receiver does:
//            HS256 under either key with node:crypto, the claims and the body hash, JSON.parse
//            and the same zod schema), and official (the `Receiver` of @upstash/qstash, then
//            the same parse and schema)
//   Express  Express 5, `app.use("/api/jobs", serve(jobs))` from jobstash/express; the bare
//            endpoint reads the body with express.raw()
//   Next.js  one `next build` of bench/apps/next (a bare route handler and the jobstash
//            route, App Router, Node.js runtime) served by `next start` in a child process
//
// Each framework's servers run in a process of their own (Hono's and Express's through
// bench/adapters/server.ts, so @hono/node-server's global Request/Response never leak into
// Express) and import the built package, as an installed app would; autocannon runs in
// another process, and this one only orchestrates. All targets are measured interleaved in
// every round and each ratio is taken within a round before the median over rounds, so
// background load hits a framework's targets alike. The table adds each server's CPU per
// request (Linux, from /proc), and the summary what each route adds over its bare route: on a
// loaded machine CPU per request moves less than throughput does.
//
// Targets (issue 15): Hono adapter >= 0.9x the hand-written route and >= 1.6x the official
// Receiver; Express adapter >= 0.95x bare Express. Next.js has no target and is reported for
// information. A missed target is reported as FAIL but exits 0; a harness error (a non-2xx
// response, a server that does not start) exits 1.
//
// Knobs: BENCH_ROUNDS (3), BENCH_DURATION seconds (5), BENCH_WARMUP seconds (1),
// BENCH_CONNECTIONS (10), BENCH_FRAMEWORKS (hono,express,next: the ones to measure).
// `npm run bench` builds dist/ first; run alone, build it yourself.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { background, freePort, run, waitFor } from "../test/helpers/process.js";
import { KEYS } from "../test/helpers/sign.js";
import { BASE_URL, JOB_ID } from "./adapters/constants.js";
import {
  HarnessError,
  loadSettings,
  type Measurements,
  measureInterleaved,
  median,
  printRatio,
  printTable,
  ratio,
  runMain,
  signedRequest,
  type Target,
} from "./lib/load.js";
import { BENCH_BODY } from "./lib/reference.js";

const SETTINGS = loadSettings({ connections: 10 });

/** `[route, reference, at least]`: each route's throughput over its reference's, from one run. */
const TARGETS: [string, string, number][] = [
  ["Hono jobstash", "Hono hand-written", 0.9],
  ["Hono jobstash", "Hono official", 1.6],
  ["Express jobstash", "Express bare", 0.95],
];

/** Ratios printed for information: what the framework and the work itself cost. */
const INFORMATION: [string, string, string][] = [
  ["Hono jobstash", "Hono bare", "the verified job against no verification at all"],
  ["Hono hand-written", "Hono bare", "what the verification and the schema cost any receiver"],
  ["Hono official", "Hono bare", "the same with the official Receiver"],
  [
    "Hono hand-written",
    "Hono official",
    "the floor against the official Receiver: what any receiver can reach",
  ],
  ["Next.js jobstash", "Next.js bare", "no target"],
];

const REQUEST = signedRequest(`${BASE_URL}/${JOB_ID}`, BENCH_BODY);

interface Running {
  targets: Target[];
  close(): Promise<void>;
}

/** Hono's or Express's servers, in a child process (see bench/adapters/server.ts). */
async function startNode(framework: "hono" | "express", label: string): Promise<Running> {
  const script = fileURLToPath(new URL("adapters/server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", ...nodeFlags(), script, framework], {
    stdio: ["pipe", "pipe", "inherit"],
    // "jobstash" resolves to dist/ there, what an installed package runs (`npm run bench` builds first).
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: fileURLToPath(new URL("adapters/tsconfig.json", import.meta.url)),
    },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const [line] = (await Promise.race([
      once(createInterface({ input: child.stdout! }), "line"),
      exited.then(() => {
        throw new HarnessError(`the ${label} servers exited before listening`);
      }),
    ])) as [string];
    const urls = JSON.parse(line) as Record<string, string>;
    const pid = child.pid;
    return {
      targets: Object.entries(urls).map(([name, url]) => ({ name: `${label} ${name}`, url, pid })),
      close: async () => {
        child.stdin!.end();
        await exited;
      },
    };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** BENCH_NODE_FLAGS, for the servers' processes: `--cpu-prof --cpu-prof-dir=/tmp/prof` profiles them. */
const nodeFlags = () => (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);

async function startNext(): Promise<Running> {
  const app = fileURLToPath(new URL("apps/next", import.meta.url));
  const next = fileURLToPath(new URL("../node_modules/next/dist/bin/next", import.meta.url));
  const env = { NEXT_TELEMETRY_DISABLED: "1" };
  const started = Date.now();
  await run(process.execPath, [next, "build"], { cwd: app, env });
  console.log(`next build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = background(process.execPath, [next, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: app,
    env: {
      ...env,
      JOBSTASH_BASE_URL: BASE_URL,
      QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
      QSTASH_NEXT_SIGNING_KEY: KEYS.next,
    },
  });
  try {
    await waitFor("next start", async () => {
      await fetch(`${origin}/api/bare/${JOB_ID}`, { method: "POST", body: "{}" });
      return true;
    });
  } catch (error) {
    await server.stop();
    throw new HarnessError(`${(error as Error).message}\n${server.output()}`);
  }
  return {
    targets: [
      { name: "Next.js bare", url: `${origin}/api/bare/${JOB_ID}`, pid: server.pid },
      { name: "Next.js jobstash", url: `${origin}/api/jobs/${JOB_ID}`, pid: server.pid },
    ],
    close: server.stop,
  };
}

/**
 * Server CPU per request each route adds to its framework's bare route, in microseconds
 * (medians over rounds). It exceeds the same work timed in a loop: a slower server pays more
 * per request in wake-ups and event-loop turns, and runs it with colder caches.
 */
function cpuAdded(measured: Measurements, framework: string): string | undefined {
  const cpu = (name: string) => (measured.cpu[name]?.length ? median(measured.cpu[name]!) : undefined);
  const bare = cpu(`${framework} bare`);
  if (bare === undefined) return undefined;
  const parts = Object.keys(measured.cpu)
    .filter((name) => name.startsWith(`${framework} `) && name !== `${framework} bare`)
    .flatMap((name) => {
      const value = cpu(name);
      if (value === undefined) return [];
      const added = value - bare;
      return [`${name.slice(framework.length + 1)} ${added < 0 ? "" : "+"}${added.toFixed(1)}`];
    });
  return `bare ${bare.toFixed(1)} us/req; ${parts.join(", ")}`;
}

function printSummary(measured: Measurements): void {
  const line = (label: string, text: string) => console.log(`  ${label.padEnd(40)} ${text}`);
  const has = (name: string) => (measured.rps[name]?.length ?? 0) > 0;
  for (const [route, reference, target] of TARGETS) {
    if (has(route) && has(reference))
      printRatio(`${route} / ${reference}`, ratio(measured, route, reference), target, 40);
  }
  for (const [route, reference, why] of INFORMATION) {
    if (has(route) && has(reference))
      line(`${route} / ${reference}`, `${ratio(measured, route, reference).toFixed(2)}x  (${why})`);
  }
  for (const framework of ["Hono", "Express", "Next.js"]) {
    const added = cpuAdded(measured, framework);
    if (added) line(`${framework} server CPU`, added);
  }
}

async function main(): Promise<void> {
  const running: Running[] = [];
  try {
    const frameworks = {
      hono: () => startNode("hono", "Hono"),
      express: () => startNode("express", "Express"),
      next: startNext,
    };
    const wanted = (process.env.BENCH_FRAMEWORKS ?? "hono,express,next").split(",").map((f) => f.trim());
    for (const name of wanted) {
      if (!(name in frameworks)) throw new HarnessError(`BENCH_FRAMEWORKS: unknown "${name}"`);
    }
    // One at a time, so `next build` has the machine to itself.
    for (const [name, start] of Object.entries(frameworks))
      if (wanted.includes(name)) running.push(await start());
    const targets = running.flatMap((r) => r.targets);
    console.log(
      `node ${process.version}; ${availableParallelism()} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          " ",
        )}; ${SETTINGS.connections} connections, ${SETTINGS.warmup}s warm-up + ${SETTINGS.duration}s per target, ${SETTINGS.rounds} interleaved rounds`,
    );
    const measured = await measureInterleaved(targets, REQUEST, SETTINGS);
    printTable(measured);
    console.log();
    printSummary(measured);
  } finally {
    await Promise.all(running.map((r) => r.close()));
  }
}

runMain(main);
