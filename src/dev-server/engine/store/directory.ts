import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DataError } from "./replay.js";

/**
 * The data directory itself: which of its files are jobstash's, and the lock that keeps a
 * second server, in this process or another, from writing the same state.
 */

const DATA_FILE = /^(snapshot|journal)-(\d+)\.jsonl$/;

/** Directories this process holds: a second server in the same process is refused too. */
const held = new Set<string>();

/** The numbers of the snapshots or journals among `names`, oldest first. */
export function numberedFiles(names: readonly string[], kind: "snapshot" | "journal"): number[] {
  return names
    .map((n) => DATA_FILE.exec(n))
    .filter((m): m is RegExpExecArray => m?.[1] === kind)
    .map((m) => Number(m[2]))
    .sort((a, b) => a - b);
}

/**
 * Creates `dir` when missing, checks that it holds jobstash data or nothing of anyone else's,
 * and locks it; returns what releases the lock. Throws a `DataError` that says what to do when
 * the directory is not usable: another server holds it, it holds files that are not ours, or
 * it cannot be written.
 */
export function claimDirectory(dir: string): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new DataError(`cannot create the data directory ${dir}: ${(error as Error).message}`);
  }
  const names = readdirSync(dir);
  const ours = names.filter((n) => DATA_FILE.test(n));
  const foreign = names.filter((n) => !DATA_FILE.test(n) && n !== "lock" && !n.endsWith(".tmp"));
  if (ours.length === 0 && foreign.length > 0) {
    throw new DataError(
      `${dir} holds other files and no jobstash data (${foreign.slice(0, 3).join(", ")}${foreign.length > 3 ? ", ..." : ""}); give --data an empty or new directory`,
    );
  }
  lock(dir);
  return () => {
    rmSync(join(dir, "lock"), { force: true });
    held.delete(resolve(dir));
  };
}

function lock(dir: string): void {
  const path = join(dir, "lock");
  const key = resolve(dir);
  if (held.has(key)) {
    throw new DataError(
      `${dir} is in use by another jobstash dev server in this process; close it first, or give this one another directory`,
    );
  }
  try {
    writeFileSync(path, String(process.pid), { flag: "wx" });
    held.add(key);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EEXIST") {
      throw new DataError(`cannot write the data directory ${dir}: ${(error as Error).message}`);
    }
  }
  const pid = Number(readFileSync(path, "utf8"));
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
    throw new DataError(
      `${dir} is in use by another jobstash dev (pid ${pid}); stop it, or give this one another --data directory`,
    );
  }
  // A lock left by a server that was killed: its state is ours to recover.
  writeFileSync(path, String(process.pid));
  held.add(key);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
