// `npm run bench -- testing`: what the test harness (jobstash/testing) costs a test suite.
//
// 1. 1,000 triggers of a job that fails once then succeeds, drained (2,000 attempts through
//    the engine, each signed, verified and run by the real receiver): target under 1 s of wall
//    time, harness created and closed included.
// 2. One whole test of a job that exhausts 3 retries and reaches onFailure (create, trigger,
//    drain, check, close): target under 20 ms.
//
// Each is timed over several rounds after one warm-up round, and printed next to its floor
// measured in the same run: the job's own code called directly in a loop (what a test that
// calls run() by hand pays, with none of QStash's semantics). A missed target is reported as
// FAIL but exits 0; a round whose result is wrong exits 1.
//
// Knobs: BENCH_ROUNDS (5), BENCH_TESTS (50, runs of the onFailure test per round).
import { createJobstash, defineJob, type JobContext } from "jobstash";
import { createTestJobstash } from "jobstash/testing";
import { z } from "zod";
import { HarnessError, median, runMain } from "./lib/load.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TESTS = Number(process.env.BENCH_TESTS ?? 50);
const TRIGGERS = 1_000;
const TARGET_DRAIN_MS = 1_000;
const TARGET_TEST_MS = 20;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const input = z.object({ n: z.number() });

// --- 1. a job that fails once then succeeds ------------------------------------------------

const failedOnce = new Set<number>();
const flaky = defineJob({
  id: "flaky",
  input,
  async run(input) {
    if (!failedOnce.has(input.n)) {
      failedOnce.add(input.n);
      throw new Error("first attempt fails");
    }
    return { sent: true };
  },
});
const flakyJobs = createJobstash({ app: "bench", jobs: [flaky], logger: quiet });

async function drainThousand(): Promise<number> {
  failedOnce.clear();
  const started = performance.now();
  const t = createTestJobstash(flakyJobs, { now: "2026-03-29T00:30:00Z" });
  for (let n = 0; n < TRIGGERS; n++) await t.trigger("flaky", { n });
  const { runs } = await t.drain();
  await t.close();
  const ms = performance.now() - started;
  const succeeded = runs.filter((r) => r.outcome === "success").length;
  if (runs.length !== 2 * TRIGGERS || succeeded !== TRIGGERS) {
    throw new HarnessError(
      `expected ${2 * TRIGGERS} attempts, ${TRIGGERS} successful; got ${runs.length}, ${succeeded}`,
    );
  }
  return ms;
}

/** A ctx for calling run() by hand, as a test without the harness would have to build. */
function handMadeContext(attempt: number): JobContext {
  return {
    jobId: "flaky",
    messageId: "msg_1",
    attempt,
    retried: attempt - 1,
    maxRetries: 3,
    scheduleId: undefined,
    label: "flaky",
    signal: new AbortController().signal,
    logger: quiet,
    env: {},
    waitUntil() {},
  };
}

async function directThousand(): Promise<number> {
  failedOnce.clear();
  const started = performance.now();
  for (let n = 0; n < TRIGGERS; n++) {
    const parsed = input.parse({ n });
    for (let attempt = 1; ; attempt++) {
      try {
        await flaky.definition.run(parsed, handMadeContext(attempt));
        break;
      } catch {}
    }
  }
  return performance.now() - started;
}

// --- 2. a job that exhausts 3 retries and reaches onFailure --------------------------------

let failures = 0;
const doomed = defineJob({
  id: "doomed",
  input,
  retries: 3,
  run() {
    throw new Error("always fails");
  },
  onFailure() {
    failures++;
  },
});
const doomedJobs = createJobstash({ app: "bench", jobs: [doomed], logger: quiet });

async function onFailureTest(): Promise<number> {
  failures = 0;
  const started = performance.now();
  const t = createTestJobstash(doomedJobs, { now: "2026-03-29T00:30:00Z" });
  await t.trigger("doomed", { n: 1 });
  await t.drain();
  const attempts = t.runs("doomed").length;
  const dlq = t.dlq("doomed").length;
  await t.close();
  const ms = performance.now() - started;
  if (attempts !== 4 || dlq !== 1 || failures !== 1) {
    throw new HarnessError(
      `expected 4 attempts, 1 DLQ entry, 1 onFailure; got ${attempts}, ${dlq}, ${failures}`,
    );
  }
  return ms;
}

async function directOnFailure(): Promise<number> {
  failures = 0;
  const started = performance.now();
  const parsed = input.parse({ n: 1 });
  let error: unknown;
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      await doomed.definition.run(parsed, handMadeContext(attempt));
    } catch (e) {
      error = e;
    }
  }
  await doomed.definition.onFailure!({
    input: parsed,
    error: { status: 500, body: "", message: String(error) },
    dlqId: "dlq_1",
    ctx: handMadeContext(4),
  });
  if (failures !== 1) throw new HarnessError("onFailure did not run");
  return performance.now() - started;
}

// --- the run ----------------------------------------------------------------------------

async function rounds(measure: () => Promise<number>, n: number): Promise<number[]> {
  await measure(); // warm-up: module loading and JIT, paid once per test file in a suite
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await measure());
  return out;
}

function line(label: string, values: number[], extra = ""): void {
  const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  console.log(
    `  ${label.padEnd(44)} median ${fmt(median(values)).padStart(9)}  best ${fmt(Math.min(...values)).padStart(9)}${extra}`,
  );
}

function verdict(label: string, value: number, target: number): void {
  console.log(
    `  ${label.padEnd(44)} ${value.toFixed(1)} ms  (target < ${target} ms)  ${value < target ? "PASS" : "FAIL"}`,
  );
}

async function main() {
  console.log(`jobstash/testing: ${ROUNDS} rounds after a warm-up`);

  const cold = await drainThousand();
  console.log(`\n1,000 triggers of a job that fails once, drained (2,000 attempts)`);
  console.log(`  first run in the process (cold)              ${cold.toFixed(0)} ms`);
  const harness = await rounds(drainThousand, ROUNDS);
  const direct = await rounds(directThousand, ROUNDS);
  line(
    "harness: create, 1,000 triggers, drain, close",
    harness,
    `  (${((median(harness) * 1000) / (2 * TRIGGERS)).toFixed(0)} us per attempt)`,
  );
  line("floor: run() called directly, 2,000 calls", direct);
  verdict("harness, median", median(harness), TARGET_DRAIN_MS);

  console.log(`\nOne test of a job that exhausts 3 retries and reaches onFailure (${TESTS} per round)`);
  const perTest = async (measure: () => Promise<number>) => {
    const all: number[] = [];
    for (let r = 0; r < ROUNDS; r++) all.push(...(await rounds(measure, TESTS)));
    return all;
  };
  const tests = await perTest(onFailureTest);
  const directTests = await perTest(directOnFailure);
  const sorted = [...tests].sort((a, b) => a - b);
  line(
    "harness: create, trigger, drain, check, close",
    tests,
    `  p95 ${sorted[Math.floor(sorted.length * 0.95)]!.toFixed(2)} ms`,
  );
  line("floor: 4 run() calls and onFailure, direct", directTests);
  verdict("harness, median", median(tests), TARGET_TEST_MS);
}

runMain(main);
