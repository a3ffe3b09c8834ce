// Adapter throughput (`npm run bench -- adapters`): requests per second through each Node
// adapter for a trivial job (zod input `{ n: number }`), against the same framework's bare
// endpoint (reads the body, answers `{ ok: true }`), all hit with the same signed request.
//
//   Hono     @hono/node-server, `app.route("/api/jobs", serve(jobs))` from jobstash/hono, plus
//            two references (bench/adapters/server.ts): the floor, the least any verifying
//            route does, inline; and the bare route plus a fixed busy-wait (BENCH_BUSY_US, 8,
//            about one verification's CPU in process), which shows how throughput answers a
//            few microseconds of work on the machine at hand
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
// request (Linux), and the summary what each target adds over its bare route.
//
// Targets (from the issue): Hono adapter >= 0.6x bare Hono, Express adapter >= 0.85x bare
// Express; Next.js has no target and is reported for information. A missed target is
// reported as FAIL but exits 0; a harness error (a non-2xx response, a server that does not
// start) exits 1.
//
// Knobs: BENCH_ROUNDS (3), BENCH_DURATION seconds (5), BENCH_WARMUP seconds (1),
// BENCH_CONNECTIONS (50), BENCH_FRAMEWORKS (hono,express,next: the ones to measure),
// BENCH_BUSY_US (8). `npm run bench` builds dist/ first; run alone, build it yourself.
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

const SETTINGS = loadSettings();
const TARGETS = { Hono: 0.6, Express: 0.85 } as const;

const REQUEST = signedRequest(`${BASE_URL}/${JOB_ID}`, JSON.stringify({ n: 1 }));

interface Running {
  targets: Target[];
  close(): Promise<void>;
}

/** Hono's or Express's servers, in a child process (see bench/adapters/server.ts). */
async function startNode(framework: "hono" | "express", label: string): Promise<Running> {
  const script = fileURLToPath(new URL("adapters/server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, framework], {
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
    const { busyMicroseconds, ...urls } = JSON.parse(line) as {
      bare: string;
      jobstash: string;
      floor?: string;
      busy?: string;
      busyMicroseconds: number;
    };
    const pid = child.pid;
    return {
      targets: [
        { name: `${label} bare`, url: urls.bare, pid },
        { name: `${label} jobstash`, url: urls.jobstash, pid },
        ...(urls.floor ? [{ name: `${label} floor`, url: urls.floor, pid }] : []),
        ...(urls.busy ? [{ name: `${label} bare+${busyMicroseconds}us`, url: urls.busy, pid }] : []),
      ],
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
 * Server CPU per request each target adds to its bare route, in microseconds (medians over
 * rounds). It exceeds the same work timed in a loop: a slower server pays more per request
 * in wake-ups and event-loop turns, and runs it with colder caches. The busy-wait reference
 * shows by how much for a known amount of work.
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
    for (const framework of ["Hono", "Express", "Next.js"] as const) {
      if (!measured.rps[`${framework} bare`]) continue;
      const line = (label: string, text: string) => console.log(`  ${label.padEnd(28)} ${text}`);
      const value = ratio(measured, `${framework} jobstash`, `${framework} bare`);
      const label = `${framework} jobstash / bare`;
      if (framework === "Next.js") line(label, `${value.toFixed(2)}x  (no target)`);
      else printRatio(label, value, TARGETS[framework]);
      for (const name of Object.keys(measured.rps)) {
        if (!name.startsWith(`${framework} `) || name.endsWith(" bare") || name.endsWith(" jobstash"))
          continue;
        const reference = name.slice(framework.length + 1);
        const why =
          reference === "floor"
            ? "the verification alone, inline"
            : "the bare route plus a fixed busy-wait: what that much work per request costs here";
        line(`${name} / bare`, `${ratio(measured, name, `${framework} bare`).toFixed(2)}x  (${why})`);
        if (reference === "floor")
          line(
            `${framework} jobstash / floor`,
            `${ratio(measured, `${framework} jobstash`, name).toFixed(2)}x`,
          );
      }
      const added = cpuAdded(measured, framework);
      if (added) line(`${framework} server CPU`, added);
    }
  } finally {
    await Promise.all(running.map((r) => r.close()));
  }
}

runMain(main);
