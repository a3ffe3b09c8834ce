import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../src/cli/index.ts", import.meta.url));

/** A child process with its output (stdout and stderr) kept and searchable. */
export interface CliRun {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  output(): string;
}

/** The `jobstash` CLI run from the sources. */
export function startCli(args: string[], env: Record<string, string> = {}, cwd?: string): CliRun {
  return startProcess([process.execPath, "--import", "tsx", cli, ...args], env, cwd);
}

export function startProcess(command: string[], env: Record<string, string> = {}, cwd?: string): CliRun {
  const [file, ...args] = command;
  const child = spawn(file!, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (c: Buffer) => {
    out += c;
    for (const w of waiters) w();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (re: RegExp, ms = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(re);
        if (m) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${re} in output:\n${out}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { child, exited, waitFor, output: () => out };
}
