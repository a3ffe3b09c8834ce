import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEV_USERS } from "jobstash/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, startProcess } from "../helpers/cli.js";

// A data directory on a file system that is full, or read-only: a real one, a tmpfs mounted in a
// mount namespace of the server's own (unshare, so no root and no trace outside the test).
// Either the server says so at start, or it refuses the request with 503; what it acknowledged
// is never lost.
const cli = fileURLToPath(new URL("../../src/cli/index.ts", import.meta.url));
const auth = { authorization: `Bearer ${DEV_USERS.defaultUser.token}` };
const dirs: string[] = [];
const runs: CliRun[] = [];

afterAll(() => {
  for (const r of runs) if (r.child.exitCode === null) r.child.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `script` runs in a shell in a new mount namespace, with $DIR a fresh directory and $DEV the dev command. */
function inNamespace(script: string): { run: CliRun; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "jobstash-disk-"));
  dirs.push(dir);
  const dev = `${process.execPath} --import tsx ${cli} dev --data "$DIR" --port 0 --quiet --no-sync`;
  const run = startProcess(["unshare", "-rm", "sh", "-c", script], { DIR: dir, DEV: dev });
  runs.push(run);
  return { run, dir };
}

// Mount namespaces are Linux's; CI runs there, so there this must work rather than be skipped.
describe.runIf(process.platform === "linux")("a data directory the server cannot write", () => {
  beforeAll(() => {
    const probe = spawnSync("unshare", ["-rm", "sh", "-c", "mount -t tmpfs tmpfs /tmp"], {
      encoding: "utf8",
    });
    if (probe.status !== 0) {
      throw new Error(
        `these tests mount a tmpfs with \`unshare -rm\` (util-linux), which failed: ${probe.error?.message ?? probe.stderr}; enable unprivileged user namespaces, or run as root`,
      );
    }
  });

  it("is refused at start when the file system is read-only", async () => {
    const { run } = inNamespace('mount -t tmpfs tmpfs "$DIR" && mount -o remount,ro "$DIR" && eval "$DEV"');
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /jobstash dev: cannot write the data directory .*: EROFS: read-only file system/,
    );
  });

  it("refuses requests with 503 once the disk is full, and loses none it acknowledged", async () => {
    const { run } = inNamespace(
      'mount -t tmpfs -o size=256k tmpfs "$DIR" && { eval "exec $DEV" & echo "PID=$!"; wait $!; echo STOPPED; eval "exec $DEV"; }',
    );
    const [, pid] = await run.waitFor(/PID=(\d+)/, 20_000);
    const [, url] = await run.waitFor(/QSTASH_URL=(http:\/\/\S+)/, 20_000);
    const acked: string[] = [];
    let refused: { status: number; text: string } | undefined;
    for (let i = 0; i < 2000 && !refused; i++) {
      const res = await fetch(`${url}/v2/publish/http://127.0.0.1:9/job${i}`, {
        method: "POST",
        headers: { ...auth, "upstash-delay": "1h" },
        body: "x".repeat(1024),
      });
      if (res.ok) acked.push(((await res.json()) as { messageId: string }).messageId);
      else refused = { status: res.status, text: await res.text() };
    }
    expect(acked.length).toBeGreaterThan(20);
    expect(refused?.status).toBe(503);
    expect(refused?.text).toMatch(/the data directory cannot be written: ENOSPC/);
    expect(run.output()).toMatch(/requests that change state are refused until it can/);
    // Reads go on.
    expect((await fetch(`${url}/v2/messages/${acked[0]}`, { headers: auth })).status).toBe(200);

    process.kill(Number(pid), "SIGKILL");
    await run.waitFor(/STOPPED/);
    const [, again] = await run.waitFor(/STOPPED[\s\S]*QSTASH_URL=(http:\/\/\S+)/, 20_000);
    const missing: string[] = [];
    for (const id of acked) {
      const res = await fetch(`${again}/v2/messages/${id}`, { headers: auth });
      if (res.status !== 200) missing.push(id);
    }
    expect(missing).toEqual([]);
    run.child.kill("SIGTERM");
  }, 60_000);
});
