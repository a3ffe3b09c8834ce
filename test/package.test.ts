// The package as users get it: `npm pack`ed from the built dist/, checked with publint and
// are-the-types-wrong, then installed into a scratch project and loaded by real Node processes
// through `import` and `require`. Everything else in the suite imports the sources through
// tsconfig paths, so this file is the only check of the export map and the build.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entries } from "../tsup.config.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const require = createRequire(import.meta.url);
const attwBin = join(dirname(require.resolve("@arethetypeswrong/cli/package.json")), "dist/index.js");

/** What the root entry must expose to both module systems. */
const PUBLIC_VALUES = ["defineJob", "createJobstash", "createHandler", "NonRetryableError"];

let dir: string;
let tarball: string;
/** The extracted package, installed as `<project>/node_modules/jobstash`. */
let project: string;

beforeAll(async () => {
  if (!existsSync(join(root, "dist/index.js")) || !existsSync(join(root, "dist/index.cjs"))) {
    throw new Error("dist/ is missing: run `npm run build` first (`npm test` builds before vitest runs)");
  }
  dir = await mkdtemp(join(tmpdir(), "jobstash-pack-"));
  // --ignore-scripts: pack what dist/ holds now; a prepack hook must not rebuild under the test.
  const { stdout } = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
    cwd: root,
  });
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  tarball = join(dir, packed!.filename);

  // A scratch project with the tarball extracted as its dependency. The package's own
  // dependencies come from the repo's node_modules through symlinks, since the test must not
  // reach the registry (`npm install <tgz> --offline` cannot resolve them from cache). Only
  // the declared ones: what the package needs beyond them would be missing for its users too.
  project = join(dir, "project");
  const installed = join(project, "node_modules/jobstash");
  await mkdir(installed, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  const { dependencies } = JSON.parse(await readFile(join(installed, "package.json"), "utf8"));
  for (const name of Object.keys(dependencies)) {
    await mkdir(dirname(join(installed, "node_modules", name)), { recursive: true });
    await symlink(join(root, "node_modules", name), join(installed, "node_modules", name), "dir");
  }
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Run a script file in a fresh Node inside the scratch project; resolves to its JSON output. */
async function node(file: string, source: string): Promise<any> {
  const path = join(project, file);
  await writeFile(path, source);
  const { stdout } = await run(process.execPath, [path], { cwd: project });
  return JSON.parse(stdout);
}

describe("the packed package", () => {
  it("ships the build and nothing from the sources", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.trim().split("\n");
    expect(files).toEqual(
      expect.arrayContaining([
        "package/package.json",
        "package/dist/index.js",
        "package/dist/index.cjs",
        "package/dist/index.d.ts",
        "package/dist/index.d.cts",
      ]),
    );
    expect(files.filter((f) => /^package\/(src|test|bench)\//.test(f))).toEqual([]);
  });

  it("passes publint with no errors, warnings or suggestions", async () => {
    const bytes = await readFile(tarball);
    const result = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      level: "suggestion",
    });
    const messages = result.messages.map((m) => `${m.type} ${m.code}: ${formatMessage(m, result.pkg)}`);
    expect(messages, messages.join("\n")).toEqual([]);
  });

  // The "strict" profile (attw's default) checks all four resolution modes. "node16" would skip
  // node10, but the package sets top-level `main` and `types` precisely so that projects still
  // on `moduleResolution: "node"` get the CJS build with its types; that promise is tested too.
  it("has right types under node10, node16 (CJS and ESM) and bundler resolution", async () => {
    const result = await run(
      process.execPath,
      [attwBin, tarball, "--format", "json", "--profile", "strict"],
      {
        cwd: dir,
      },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
    const report = JSON.parse(result.stdout) as {
      analysis: { entrypoints: Record<string, { resolutions: Record<string, unknown> }> };
      problems: Record<string, unknown[]> | unknown[];
    };
    const problems = Object.values(report.problems).flat();
    expect(problems, JSON.stringify(problems, null, 2)).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints["."]!.resolutions).sort()).toEqual([
      "bundler",
      "node10",
      "node16-cjs",
      "node16-esm",
    ]);
  }, 30_000);

  it("declares every build entry in the export map, with types under each condition", async () => {
    const pkg = JSON.parse(await readFile(join(project, "node_modules/jobstash/package.json"), "utf8"));
    const subpaths = Object.keys(pkg.exports).filter((key) => key !== "./package.json");
    const expected = Object.keys(entries).map((name) => (name === "index" ? "." : `./${name}`));
    expect(subpaths.sort()).toEqual(expected.sort());
    for (const subpath of subpaths) {
      const name = subpath === "." ? "index" : subpath.slice(2);
      expect(pkg.exports[subpath], subpath).toEqual({
        import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
        require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
      });
      // TypeScript takes the first matching condition: `types` must come before `default`.
      expect(Object.keys(pkg.exports[subpath].import)[0]).toBe("types");
      expect(Object.keys(pkg.exports[subpath].require)[0]).toBe("types");
    }
  });

  it("loads through import and require in Node, each from its own build", async () => {
    const probe = `
      const names = ${JSON.stringify(PUBLIC_VALUES)};
      const shape = (m) => Object.fromEntries(names.map((n) => [n, typeof m[n]]));`;
    const esm = await node(
      "esm.mjs",
      `${probe}
      const m = await import("jobstash");
      console.log(JSON.stringify({ shape: shape(m), file: import.meta.resolve("jobstash") }));`,
    );
    const cjs = await node(
      "cjs.cjs",
      `${probe}
      const m = require("jobstash");
      console.log(JSON.stringify({
        shape: shape(m),
        file: require.resolve("jobstash"),
        name: require("jobstash/package.json").name,
      }));`,
    );
    const functions = Object.fromEntries(PUBLIC_VALUES.map((n) => [n, "function"]));
    expect(esm.shape).toEqual(functions);
    expect(cjs.shape).toEqual(functions);
    expect(esm.file).toMatch(/\/node_modules\/jobstash\/dist\/index\.js$/);
    expect(cjs.file).toMatch(/\/node_modules\/jobstash\/dist\/index\.cjs$/);
    expect(cjs.name).toBe("jobstash");
  });

  // hono is a peer dependency of jobstash/hono (the app's copy); the dev server carries its own.
  it("runs the dev server through import and require in a project without hono", async () => {
    const result = await node(
      "dev-server.mjs",
      `import { createRequire } from "node:module";
      const esm = await import("jobstash/dev-server");
      const cjs = createRequire(import.meta.url)("jobstash/dev-server");
      const hono = await import("hono").then(() => "installed", (error) => error.code);
      const statuses = [];
      for (const { createDevServer, DEV_USERS } of [esm, cjs]) {
        const server = createDevServer();
        const { url } = await server.listen();
        const response = await fetch(url + "/v2/queues", {
          headers: { authorization: "Bearer " + DEV_USERS.defaultUser.token },
        });
        statuses.push([response.status, await response.json()]);
        await server.close();
      }
      console.log(JSON.stringify({ hono, statuses }));`,
    );
    expect(result).toEqual({
      hono: "ERR_MODULE_NOT_FOUND",
      statuses: [
        [200, []],
        [200, []],
      ],
    });
  });

  // The harness bundles the dev server's engine and reaches the registry through the public
  // entries, so it must work from each module system with the registry of the same one.
  it("runs the test harness through import and require", async () => {
    const result = await node(
      "testing.mjs",
      `import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const builds = [
        [await import("jobstash"), await import("jobstash/testing")],
        [require("jobstash"), require("jobstash/testing")],
      ];
      const out = [];
      for (const [core, { createTestJobstash }] of builds) {
        let calls = 0;
        const job = core.defineJob({
          id: "flaky",
          input: { "~standard": { version: 1, vendor: "test", validate: (value) => ({ value }) } },
          run: () => { if (++calls === 1) throw new Error("once"); return "ok"; },
        });
        const quiet = { debug() {}, info() {}, warn() {}, error() {} };
        const jobs = core.createJobstash({ app: "pkg", jobs: [job], logger: quiet });
        const t = createTestJobstash(jobs, { now: "2026-01-01T00:00:00Z" });
        await t.trigger("flaky", { n: 1 });
        const { runs } = await t.drain();
        const bad = await t.advance(-1).catch((error) => [error.name, error.code, error instanceof core.JobstashError]);
        await t.close();
        out.push({ runs: runs.map((r) => [r.outcome, r.time.toISOString()]), bad });
      }
      console.log(JSON.stringify(out));`,
    );
    const expected = {
      runs: [
        ["retry", "2026-01-01T00:00:00.000Z"],
        ["success", "2026-01-01T00:00:12.182Z"],
      ],
      bad: ["TestHarnessError", "BAD_ARGUMENT", true],
    };
    expect(result).toEqual([expected, expected]);
  });

  it("recognises errors across the ESM and CJS builds (dual-package hazard)", async () => {
    const result = await node(
      "cross.mjs",
      `import { createRequire } from "node:module";
      const cjs = createRequire(import.meta.url)("jobstash");
      const esm = await import("jobstash");
      console.log(JSON.stringify({
        twoCopies: cjs.NonRetryableError !== esm.NonRetryableError,
        cjsInEsm: new cjs.NonRetryableError("gone") instanceof esm.NonRetryableError,
        esmInCjs: new esm.NonRetryableError("gone") instanceof cjs.NonRetryableError,
        retryIsNotNonRetryable: new cjs.RetryAfterError("later", 5) instanceof esm.NonRetryableError,
        base: new cjs.NonRetryableError("gone") instanceof esm.JobstashError,
        name: new cjs.NonRetryableError("gone").name,
      }));`,
    );
    expect(result).toEqual({
      twoCopies: true,
      cjsInEsm: true,
      esmInCjs: true,
      retryIsNotNonRetryable: false,
      base: true,
      name: "NonRetryableError",
    });
  });
});

// A clean clone has no dist/: `npm pack` (and `npm publish`) must build it first.
describe("npm pack in a clean clone", () => {
  it("builds dist/ before packing", async () => {
    const clone = join(dir, "clone");
    // The files a clone would hold: tracked ones and new ones git does not ignore.
    const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const file of stdout.split("\0").filter((f) => f && existsSync(join(root, f)))) {
      await cp(join(root, file), join(clone, file));
    }
    await symlink(join(root, "node_modules"), join(clone, "node_modules"), "dir");
    expect(existsSync(join(clone, "dist"))).toBe(false);

    const out = join(dir, "clone-pack");
    await mkdir(out);
    await run("npm", ["pack", "--pack-destination", out], { cwd: clone });
    const [packed] = await readdir(out);
    const files = (await run("tar", ["-tzf", join(out, packed!)])).stdout.trim().split("\n");
    expect(files).toEqual(
      expect.arrayContaining(
        Object.keys(entries).flatMap((name) => [
          `package/dist/${name}.js`,
          `package/dist/${name}.cjs`,
          `package/dist/${name}.d.ts`,
        ]),
      ),
    );
  }, 120_000);
});
