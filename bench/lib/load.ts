// Shared load harness for the HTTP benchmarks: autocannon in a child process (so the load
// generator never shares an event loop with a server under test), a probe that fails fast on
// a broken target, interleaved rounds, medians and per-round ratios.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { KEYS, sign } from "../../test/helpers/sign.js";

/** A harness failure (non-2xx, connection errors, a server that does not start): exit 1. */
export class HarnessError extends Error {}

export interface LoadSettings {
  rounds: number;
  /** Seconds measured per target per round. */
  duration: number;
  /** Seconds of unmeasured load before each measurement. */
  warmup: number;
  connections: number;
}

/**
 * BENCH_ROUNDS (3), BENCH_DURATION seconds (5), BENCH_WARMUP seconds (1), BENCH_CONNECTIONS
 * (50); a benchmark may choose other defaults.
 */
export function loadSettings(defaults: Partial<LoadSettings> = {}): LoadSettings {
  return {
    rounds: Number(process.env.BENCH_ROUNDS ?? defaults.rounds ?? 3),
    duration: Number(process.env.BENCH_DURATION ?? defaults.duration ?? 5),
    warmup: Number(process.env.BENCH_WARMUP ?? defaults.warmup ?? 1),
    connections: Number(process.env.BENCH_CONNECTIONS ?? defaults.connections ?? 50),
  };
}

/** One request, sent as is on every connection. */
export interface BenchRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * The delivery QStash would send for `body` to `publicUrl`, signed once with the dev user's
 * current key and valid for an hour, far longer than any run.
 */
export function signedRequest(publicUrl: string, body: string): BenchRequest {
  const signature = sign({
    url: publicUrl,
    body,
    key: KEYS.current,
    claims: { exp: Math.floor(Date.now() / 1000) + 3600 },
  });
  return {
    body,
    headers: {
      "content-type": "application/json",
      "upstash-signature": signature,
      "upstash-message-id": "msg_bench",
      "upstash-retried": "0",
    },
  };
}

export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
}

const autocannonBin = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

/** One autocannon run in a child process; resolves to its JSON result. */
export function autocannon(
  url: string,
  request: BenchRequest,
  options: { seconds: number; connections: number },
): Promise<AutocannonResult> {
  const args = [autocannonBin, "--json", "-c", String(options.connections), "-d", String(options.seconds)];
  args.push("-m", "POST");
  for (const [name, value] of Object.entries(request.headers)) args.push("-H", `${name}=${value}`);
  args.push("-b", request.body, url);
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

/** A benchmark that measured 401s or connection errors is worthless: throw. */
export function checkAll2xx(name: string, result: AutocannonResult): void {
  if (result.requests.total === 0) throw new HarnessError(`${name}: no request completed`);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new HarnessError(
      `${name}: ${result.non2xx} non-2xx responses, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `(status codes ${JSON.stringify(result.statusCodeStats)}); the numbers would not measure the success path`,
    );
  }
}

/** A single request through fetch, so a broken target fails before any load is spent on it. */
export async function probe(name: string, url: string, request: BenchRequest): Promise<string> {
  const response = await fetch(url, { method: "POST", body: request.body, headers: request.headers });
  const text = await response.text();
  if (response.status !== 200) throw new HarnessError(`${name}: probe answered ${response.status}: ${text}`);
  return text;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface Target {
  name: string;
  url: string;
  /** The process serving it, whose CPU time is charged to it while it is measured. */
  pid?: number;
}

/** Requests/s, p99 latency and server CPU per request (us) per target, one entry per round. */
export interface Measurements {
  rps: Record<string, number[]>;
  p99: Record<string, number[]>;
  cpu: Record<string, number[]>;
}

// USER_HZ, the unit of /proc/<pid>/stat's times; 100 on every Linux architecture Node runs on.
const CLOCK_TICKS = 100;

/**
 * CPU seconds (user + system, all threads) a process has used, from /proc; undefined where
 * there is no /proc (macOS), so the column is left out there instead of guessed.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command name, which may itself hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * Measures every target once per round, back to back, for `settings.rounds` rounds (probing
 * each first), printing one line per round. Interleaving puts each round's targets under the
 * same background load, so ratios taken within a round are steadier than ratios of medians.
 */
export async function measureInterleaved(
  targets: Target[],
  request: BenchRequest,
  settings: LoadSettings,
): Promise<Measurements> {
  for (const t of targets) await probe(t.name, t.url, request);
  const rps: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  const p99: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  const options = { connections: settings.connections };
  for (let round = 1; round <= settings.rounds; round++) {
    const line: string[] = [];
    for (const t of targets) {
      if (settings.warmup > 0) {
        checkAll2xx(
          `${t.name} (warm-up)`,
          await autocannon(t.url, request, { ...options, seconds: settings.warmup }),
        );
      }
      // Targets are measured one at a time, so the server process's CPU in this window is this
      // target's (its siblings in the same process are idle).
      const before = cpuSeconds(t.pid);
      const result = await autocannon(t.url, request, { ...options, seconds: settings.duration });
      const after = cpuSeconds(t.pid);
      checkAll2xx(t.name, result);
      rps[t.name]!.push(result.requests.average);
      p99[t.name]!.push(result.latency.p99);
      if (before !== undefined && after !== undefined)
        cpu[t.name]!.push(((after - before) / result.requests.total) * 1e6);
      line.push(`${t.name} ${Math.round(result.requests.average)}`);
    }
    console.log(`round ${round}: ${line.join(", ")} req/s`);
  }
  return { rps, p99, cpu };
}

/** The median over rounds of `a / b` taken within each round. */
export function ratio(m: Measurements, a: string, b: string): number {
  return median(m.rps[a]!.map((value, round) => value / m.rps[b]![round]!));
}

/**
 * Median, best and p99 per target, and the server's CPU per request where it was measured
 * (microseconds, all its threads, user and kernel; the kernel part includes loopback delivery).
 */
export function printTable(m: Measurements, names: string[] = Object.keys(m.rps)): void {
  const width = Math.max(20, ...names.map((n) => n.length));
  const withCpu = names.some((n) => m.cpu[n]?.length);
  console.log(
    `\nmedian of rounds${" ".repeat(width - 11)}req/s    best   p99 ms${withCpu ? "  server CPU us/req" : ""}`,
  );
  for (const name of names) {
    const values = m.rps[name]!;
    const cpu = m.cpu[name]?.length ? median(m.cpu[name]!).toFixed(1).padStart(18) : "";
    console.log(
      `  ${name.padEnd(width)} ${String(Math.round(median(values))).padStart(7)} ${String(
        Math.round(Math.max(...values)),
      ).padStart(7)} ${String(median(m.p99[name]!)).padStart(8)}${cpu}`,
    );
  }
}

/** One `a / b` line with its target and verdict. A missed target is reported, not thrown. */
export function printRatio(label: string, value: number, target: number, width = 28): boolean {
  const pass = value >= target;
  console.log(
    `  ${label.padEnd(width)} ${value.toFixed(2)}x  (target >= ${target}x)  ${pass ? "PASS" : "FAIL"}`,
  );
  return pass;
}

/** Runs a benchmark's main: harness errors exit 1 with their message, anything else with its stack. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error) => {
    console.error(error instanceof HarnessError ? `bench failed: ${error.message}` : error);
    process.exit(1);
  });
}
