import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";

/** The built CLI, as users run it (`npm test` builds first). */
export const CLI = fileURLToPath(new URL("../../dist/cli/index.js", import.meta.url));
/** A folder with a jobstash.config.ts that CLI_TEST_* variables can break. */
export const APP = fileURLToPath(new URL("./fixtures/app", import.meta.url));

/** A running `jobstash` child: its output so far, a wait for a line, its exit. */
export interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves to the first match of `re` in stdout + stderr; rejects with the output after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Fails the file early without a build, and kills any child a failed test left running. */
export function requireBuiltCli(): void {
  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error("dist/ is missing: run `npm run build` first (`npm test` builds before vitest runs)");
  });
  afterAll(() => {
    for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
  });
}

/** Start `jobstash <args>` in `cwd`, with no QStash or jobstash settings inherited. */
export function jobstash(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(QSTASH_|JOBSTASH_|CLI_TEST_)/.test(k)),
  );
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? APP,
    env: { ...inherited, NO_COLOR: "1", ...options.env } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (c) => {
    out += c;
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (c) => {
    err += c;
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const waitFor = (re: RegExp, ms = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = (out + err).match(re);
        if (!m) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${re} within ${ms} ms in the output:\n${out}${err}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    exited,
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Run `jobstash <args>` to its end. */
export async function jobstashDone(args: string[], options: Parameters<typeof jobstash>[1] = {}) {
  const run = jobstash(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
