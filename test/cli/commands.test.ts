import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { APP, jobstashDone, requireBuiltCli } from "./run.js";

requireBuiltCli();
const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");

describe("jobstash --version", () => {
  it("prints the package's version, from the sources' build and from the packed package", async () => {
    const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    for (const flag of ["--version", "-v"]) {
      const r = await jobstashDone([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
    const dir = await mkdtemp(join(tmpdir(), "jobstash-cli-pack-"));
    try {
      const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
        cwd: root,
      });
      const [packed] = JSON.parse(stdout) as { filename: string }[];
      await run("tar", ["-xzf", join(dir, packed!.filename), "-C", dir]);
      const installed = await run(process.execPath, [join(dir, "package/dist/cli/index.js"), "-v"], {
        cwd: dir,
      });
      expect(installed.stdout).toBe(`${version}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("mistakes on the command line", () => {
  it("suggests the nearest command or option, exit code 2", async () => {
    const command = await jobstashDone(["snyc"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(
      /^jobstash: unknown command "snyc"; did you mean "sync"\?\n\nUsage: jobstash/,
    );
    const top = await jobstashDone(["--verison"]);
    expect(top.code).toBe(2);
    expect(top.stderr).toMatch(/^jobstash: unknown option --verison; did you mean --version\?/);
    const sync = await jobstashDone(["sync", "--dry-rn"]);
    expect(sync).toMatchObject({
      code: 2,
      stderr:
        "jobstash sync: unknown option --dry-rn; did you mean --dry-run? (`jobstash sync --help` lists the options)\n",
    });
    const dev = await jobstashDone(["dev", "--prot", "3000"]);
    expect(dev).toMatchObject({
      code: 2,
      stderr:
        "jobstash dev: unknown option --prot; did you mean --port? (`jobstash dev --help` lists the options)\n",
    });
    const far = await jobstashDone(["dev", "--bogus"]);
    expect(far.stderr).toBe(
      "jobstash dev: unknown option --bogus (`jobstash dev --help` lists the options)\n",
    );
  });

  it("prefixes every error with `jobstash <command>:` and starts it lower-case", async () => {
    const cases = [
      ["sync", "--concurrency", "0"],
      ["sync", "--force"],
      ["sync", "--env"],
      ["sync", "stray"],
      ["dev", "--port", "nope"],
      ["dev", "--retry-scale", "-1"],
      ["dev", "--base-url", "localhost:3000"],
    ];
    for (const args of cases) {
      const r = await jobstashDone(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(new RegExp(`^jobstash ${args[0]}: [a-z-]`));
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    // Errors from the library, printed by the command they stopped.
    const noToken = await jobstashDone(["sync", "--dry-run"]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(
      /^jobstash sync: sync cannot start:\n {2}- no QStash token: set QSTASH_TOKEN/,
    );
  });
});

describe("a config file that fails to load", () => {
  it("is reported with its real error and exit code 2, whatever broke it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobstash-cli-syntax-"));
    try {
      await writeFile(join(dir, "jobstash.config.ts"), "export default {\n  app: 'oops',,\n};\n");
      const syntax = await jobstashDone(["sync", "--dry-run"], { cwd: dir });
      expect(syntax.code).toBe(2);
      expect(syntax.stderr).toMatch(
        new RegExp(
          `^jobstash sync: could not load ${join(dir, "jobstash.config.ts")}: .*(Unexpected|Expected)`,
        ),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const thrown = await jobstashDone(["sync", "--dry-run"], { env: { CLI_TEST_THROW: "no database here" } });
    expect(thrown.code).toBe(2);
    expect(thrown.stderr).toBe(
      `jobstash sync: could not load ${join(APP, "jobstash.config.ts")}: no database here\n`,
    );
    const cron = await jobstashDone(["sync", "--dry-run"], { env: { CLI_TEST_CRON: "61 * * * *" } });
    expect(cron.code).toBe(2);
    expect(cron.stderr).toMatch(/schedules\[0\]\.cron "61 \* \* \* \*" is not a valid cron expression/);
  });
});
