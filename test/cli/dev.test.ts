import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@upstash/qstash";
import { DEFAULT_DEV_USER } from "jobstash/dev-server";
import { describe, expect, it } from "vitest";
import { APP, jobstash, jobstashDone, requireBuiltCli } from "./run.js";

requireBuiltCli();
const exec = promisify(execFile);

/** The KEY=value block `jobstash dev` prints, from its comment line to the blank line after. */
function envBlock(stdout: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => line.startsWith("# Settings for your app"));
  const end = lines.indexOf("", start);
  return lines.slice(start, end);
}

describe("jobstash dev prints what an app needs", () => {
  it("as KEY=value lines that paste into a .env file and into a shell", async () => {
    const dev = jobstash([
      "dev",
      "--port",
      "0",
      "--no-sync",
      "--base-url",
      "http://localhost:3000/api/jobs/",
    ]);
    const [, url] = await dev.waitFor(/^QSTASH_URL=(\S+)$/m);
    await dev.waitFor(/^JOBSTASH_BASE_URL=/m);
    const block = envBlock(dev.stdout());
    expect(block).toEqual([
      "# Settings for your app (a .env file, or a shell after `set -a`):",
      `QSTASH_URL=${url}`,
      `QSTASH_TOKEN=${DEFAULT_DEV_USER.token}`,
      `QSTASH_CURRENT_SIGNING_KEY=${DEFAULT_DEV_USER.currentSigningKey}`,
      `QSTASH_NEXT_SIGNING_KEY=${DEFAULT_DEV_USER.nextSigningKey}`,
      "JOBSTASH_BASE_URL=http://localhost:3000/api/jobs",
    ]);
    const expected = Object.fromEntries(block.slice(1).map((line) => line.split(/=(.*)/s).slice(0, 2)));

    // Pasted as is into a .env file (read by Node's --env-file) and into a POSIX shell.
    const dir = await mkdtemp(join(tmpdir(), "jobstash-dev-env-"));
    try {
      const file = join(dir, ".env");
      await writeFile(file, `${block.join("\n")}\n`);
      const print = `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(Object.keys(expected))}.map((k) => [k, process.env[k]]))))`;
      const fromEnvFile = await exec(process.execPath, [`--env-file=${file}`, "-e", print]);
      expect(JSON.parse(fromEnvFile.stdout)).toEqual(expected);
      const fromShell = await exec("sh", [
        "-c",
        `set -a; . "$1"; exec "$2" -e "$3"`,
        "sh",
        file,
        process.execPath,
        print,
      ]);
      expect(JSON.parse(fromShell.stdout)).toEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await dev.stop()).toBe(0);
  });

  it("without a base URL, prints a placeholder to fill in, and its sync says how to set one", async () => {
    const dev = jobstash(["dev", "--port", "0", "--quiet"]);
    await dev.waitFor(/sync skipped/);
    expect(envBlock(dev.stdout()).at(-1)).toBe(
      "# JOBSTASH_BASE_URL=http://localhost:3000/api/jobs  <- set to where your app mounts the receiver (or pass --base-url)",
    );
    expect(dev.stderr()).toBe(
      "jobstash dev: sync skipped: no public base URL: set JOBSTASH_BASE_URL (or createJobstash({ baseUrl })) to the URL your job routes are mounted at, e.g. https://example.com/api/jobs. Pass --base-url <url> or set JOBSTASH_BASE_URL to where your app mounts the receiver, e.g. --base-url http://localhost:3000/api/jobs\n",
    );
    expect(await dev.stop()).toBe(0);
  });

  it("takes the base URL from --base-url, else JOBSTASH_BASE_URL, and syncs the schedules with it", async () => {
    const env = { JOBSTASH_BASE_URL: "http://127.0.0.1:9/from-env" };
    for (const [args, base] of [
      [["--base-url", "http://127.0.0.1:9/from-flag"], "http://127.0.0.1:9/from-flag"],
      [[], "http://127.0.0.1:9/from-env"],
    ] as const) {
      const dev = jobstash(["dev", "--port", "0", "--quiet", ...args], { env });
      await dev.waitFor(/jobstash dev: synced \(1 created, 0 updated\)/);
      expect(dev.stdout()).toMatch(new RegExp(`^JOBSTASH_BASE_URL=${base}$`, "m"));
      const url = /^QSTASH_URL=(\S+)$/m.exec(dev.stdout())![1]!;
      const client = new Client({ baseUrl: url, token: DEFAULT_DEV_USER.token });
      const schedule = await client.schedules.get("cli-test.development.digest.daily");
      expect(schedule.destination).toBe(`${base}/digest`);
      expect(dev.stderr()).toBe("");
      expect(await dev.stop()).toBe(0);
    }
  });
});

describe("jobstash dev with a broken jobstash.config.ts", () => {
  it("says the config failed to load, with the real error, and keeps serving", async () => {
    const config = join(APP, "jobstash.config.ts");
    const broken: [Record<string, string>, RegExp][] = [
      [
        { CLI_TEST_CRON: "61 * * * *" },
        /schedules\[0\]\.cron "61 \* \* \* \*" is not a valid cron expression: minute 61 is out of range/,
      ],
      [{ CLI_TEST_PERIOD: "month" }, /schedules\[0\]\.input does not match[\s\S]*period/],
      [{ CLI_TEST_THROW: "no database here" }, /no database here/],
    ];
    for (const [env, error] of broken) {
      const dev = jobstash(["dev", "--port", "0", "--quiet", "--base-url", "http://127.0.0.1:9/jobs"], {
        env,
      });
      await dev.waitFor(/sync skipped/);
      expect(dev.stderr()).toMatch(
        new RegExp(`^jobstash dev: sync skipped: could not load ${config.replace(/[.]/g, "\\.")}: `),
      );
      expect(dev.stderr()).toMatch(error);
      expect(dev.stdout()).not.toMatch(/no jobstash\.config\.ts here/);
      expect(dev.child.exitCode).toBe(null);
      expect(await dev.stop()).toBe(0);
    }
  });

  it("tells a syntax error from a folder without a config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobstash-dev-config-"));
    try {
      const empty = jobstash(["dev", "--port", "0", "--quiet"], { cwd: dir });
      await empty.waitFor(/no jobstash\.config\.ts here, so no schedules were synced/);
      expect(empty.stderr()).toBe("");
      expect(await empty.stop()).toBe(0);

      await writeFile(join(dir, "jobstash.config.ts"), "export default {\n  app: 'oops',,\n};\n");
      const syntax = jobstash(["dev", "--port", "0", "--quiet"], { cwd: dir });
      await syntax.waitFor(/sync skipped/);
      expect(syntax.stderr()).toMatch(/^jobstash dev: sync skipped: could not load .*jobstash\.config\.ts: /);
      expect(syntax.stdout()).not.toMatch(/no jobstash\.config\.ts here/);
      expect(await syntax.stop()).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("jobstash dev on a port in use", () => {
  it("says so and suggests --port, exit code 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const flag = await jobstashDone(["dev", "--port", String(port), "--no-sync"]);
      expect(flag).toMatchObject({
        code: 1,
        stderr: `jobstash dev: port ${port} (--port) on 127.0.0.1 is in use: stop what is using it, or pick another with --port <n> (--port 0 takes any free port)\n`,
      });
      const env = await jobstashDone(["dev", "--no-sync"], { env: { QSTASH_DEV_PORT: String(port) } });
      expect(env.code).toBe(1);
      expect(env.stderr).toMatch(
        new RegExp(`^jobstash dev: port ${port} \\(QSTASH_DEV_PORT\\) on 127\\.0\\.0\\.1 is in use`),
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
