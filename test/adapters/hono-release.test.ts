// jobstash/hono in an app whose hono is another 4.x release than the one jobstash is built
// and tested with: devDependency `hono-other`, the oldest 4.x that jobstash's peer range
// allows. Hono's class has private (#) fields, which TypeScript compares by declaration, so
// `app.route()` only type-checks with a sub-app from the app's own copy of hono: the adapter
// must build its app with that copy. The app (hono-release/server.ts) is installed in a
// scratch project as npm would lay it out, type-checked and compiled with tsc, and served by
// @hono/node-server in its own Node process; jobstash comes from dist/, as in the package.
import { execFile } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, KEYS } from "../helpers/keys.js";
import { background, waitFor } from "../helpers/process.js";
import { sign } from "../helpers/sign.js";

const execute = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const modules = join(root, "node_modules");
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};

let project: string;
let server: ReturnType<typeof background> | undefined;
/** What tsc said about the app ("" when it compiles). */
let diagnostics: string;

beforeAll(async () => {
  if (!existsSync(join(root, "dist/hono.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (`npm test` builds before vitest runs)");
  }
  project = await mkdtemp(join(tmpdir(), "jobstash-hono-release-"));
  const link = (target: string, name: string, where = join(project, "node_modules")) =>
    mkdir(join(where, name, ".."), { recursive: true }).then(() => symlink(target, join(where, name), "dir"));

  // The app's own dependencies: hono is the other release.
  await link(join(modules, "hono-other"), "hono");
  for (const name of ["zod", "@hono/node-server", "@types/node"]) await link(join(modules, name), name);

  // jobstash as installed: its package.json and build, and its own dependencies nested under
  // it, as npm does where the app's copy is another release. Peer dependencies are the app's.
  const installed = join(project, "node_modules/jobstash");
  await mkdir(installed, { recursive: true });
  await cp(join(root, "package.json"), join(installed, "package.json"));
  await cp(join(root, "dist"), join(installed, "dist"), { recursive: true });
  for (const name of Object.keys(pkg.dependencies)) {
    await link(join(modules, name), name, join(installed, "node_modules"));
  }

  await cp(join(import.meta.dirname, "hono-release/server.ts"), join(project, "server.ts"));
  await writeFile(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  await writeFile(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: true,
        types: ["node"],
        outDir: "out",
      },
      files: ["server.ts"],
    }),
  );
  // Type-check and compile once; tsc emits out/server.js even when it reports errors.
  const tsc = join(modules, "typescript/bin/tsc");
  diagnostics = await execute(process.execPath, [tsc, "-p", project, "--pretty", "false"]).then(
    ({ stdout }) => stdout,
    (error: { stdout: string }) => error.stdout,
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe("jobstash/hono in an app on another hono 4.x release", () => {
  it("runs on the app's hono, not a copy of its own", async () => {
    const resolveFrom = (file: string) => realpathSync(createRequire(file).resolve("hono"));
    const appHono = resolveFrom(join(project, "server.ts"));
    expect(appHono.startsWith(realpathSync(join(modules, "hono-other")))).toBe(true);
    expect(resolveFrom(join(project, "node_modules/jobstash/dist/hono.js"))).toBe(appHono);
    const version = async (dir: string) =>
      JSON.parse(await readFile(join(dir, "package.json"), "utf8")).version;
    expect(await version(join(modules, "hono-other"))).not.toBe(await version(join(modules, "hono")));
  });

  it('type-checks `app.route("/api/jobs", serve(jobs))` with the app\'s Hono', () => {
    expect(diagnostics).toBe("");
  });

  it("delivers a signed message through it on @hono/node-server", async () => {
    expect(existsSync(join(project, "out/server.js")), "tsc emitted the app").toBe(true);
    server = background(process.execPath, [join(project, "out/server.js")], {
      cwd: project,
      env: {
        JOBSTASH_BASE_URL: BASE,
        QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
        QSTASH_NEXT_SIGNING_KEY: KEYS.next,
      },
    });
    let origin = "";
    await waitFor(`the app to listen\n${server.output()}`, async () => {
      const port = /\{"port":(\d+)\}/.exec(server!.output())?.[1];
      if (port) origin = `http://127.0.0.1:${port}`;
      return Boolean(port);
    });

    const body = JSON.stringify({ n: 21 });
    const deliver = (signature: string) =>
      fetch(`${origin}/api/jobs/double`, {
        method: "POST",
        body,
        headers: { "upstash-signature": signature },
      });
    const delivered = await deliver(sign({ url: `${BASE}/double`, body }));
    expect(delivered.status).toBe(200);
    expect(await delivered.json()).toEqual({ doubled: 42 });

    const forged = await deliver(sign({ url: `${BASE}/other`, body }));
    expect(forged.status).toBe(401);
    // The app's own routes are untouched by the mount.
    expect(await (await fetch(origin)).text()).toBe("the app's own route");
  });
});
