import type { AnyJob, Jobstash, Logger } from "jobstash";
import { createTestJobstash, type TestJobstash, type TestJobstashOptions } from "jobstash/testing";
import { afterEach } from "vitest";

/** A registry logger that keeps the receiver's lines (a failing job logs one per attempt). */
export function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      lines.push(`${level} ${message}${args.length ? ` ${args.map(String).join(" ")}` : ""}`);
  return { lines, debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}

const open: TestJobstash<any>[] = [];

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

/** `createTestJobstash`, closed after the test. */
export function harness<const TJobs extends readonly AnyJob[]>(
  jobs: Jobstash<TJobs>,
  options?: TestJobstashOptions,
): TestJobstash<TJobs> {
  const t = createTestJobstash(jobs, options);
  open.push(t);
  return t;
}

/** Whole seconds between consecutive times. */
export function gapsInSeconds(times: readonly Date[]): number[] {
  return times.slice(1).map((time, i) => Math.round((time.getTime() - times[i]!.getTime()) / 1000));
}

/** Resolves after a real macrotask, so concurrent deliveries overlap for a moment. */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
