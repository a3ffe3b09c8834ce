import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { detectApp } from "../../src/cli/init/detect.js";
import { appendEnv, devScriptWithEnv, mountInEntry } from "../../src/cli/init/patch.js";
import { layout } from "../../src/cli/init/templates.js";
import { jobstashDone, requireBuiltCli } from "./run.js";

requireBuiltCli();

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A scratch app: the files given (objects are written as JSON). */
async function app(files: Record<string, string | object>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "jobstash-init-"));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(
      join(dir, path),
      typeof content === "string" ? content : JSON.stringify(content, null, 2),
    );
  }
  return dir;
}

const HONO_ENTRY = `import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()

app.get('/', (c) => {
  return c.text('Hello Hono!')
})

serve({
  fetch: app.fetch,
  port: Number(process.env.PORT ?? 3000)
})
`;

describe("jobstash init: what it reads from an app", () => {
  it("the framework, language, module system, layout, entry and port", async () => {
    const hono = await app({
      "package.json": {
        name: "@acme/api",
        type: "module",
        scripts: { dev: "tsx watch src/index.ts" },
        dependencies: { hono: "4" },
      },
      "tsconfig.json":
        '{\n  // NodeNext, as create-hono writes it\n  "compilerOptions": { "module": "NodeNext", "outDir": "./dist", },\n}\n',
      "src/index.ts": HONO_ENTRY,
    });
    expect(detectApp(hono, undefined)).toMatchObject({
      framework: "hono",
      ts: true,
      esm: true,
      extensions: true,
      srcDir: "src",
      entry: "src/index.ts",
      port: 3000,
      tscEmitsRoot: true,
      hasZod: false,
      wrangler: false,
    });
    // A root .ts would move tsc's output (dist/src/index.js): the config is an .mjs re-export.
    expect(layout(detectApp(hono, undefined))).toEqual({
      ext: "ts",
      jobFile: "src/jobs/hello.ts",
      registryFile: "src/jobs/index.ts",
      routeFile: "src/jobs/route.ts",
      configFile: "jobstash.config.mjs",
    });
    const next = await app({
      "package.json": { dependencies: { next: "16", hono: "4" }, scripts: { dev: "next dev -p 4000" } },
      "tsconfig.json": '{ "compilerOptions": { "noEmit": true, "moduleResolution": "bundler" } }',
      "src/app/page.tsx": "export default function Page() { return null; }",
    });
    expect(detectApp(next, undefined)).toMatchObject({
      framework: "next",
      appDir: "src/app",
      srcDir: "src",
      port: 4000,
      extensions: false,
    });
    expect(layout(detectApp(next, undefined)).routeFile).toBe("src/app/api/jobs/[...job]/route.ts");
    const pages = await app({ "package.json": { dependencies: { next: "16" } }, "pages/index.js": "" });
    expect(layout(detectApp(pages, undefined))).toMatchObject({
      routeFile: "pages/api/jobs/[...job].js",
      configFile: "jobstash.config.mjs",
    });
    const worker = await app({
      "package.json": { devDependencies: { wrangler: "4", typescript: "5" } },
      "wrangler.toml": 'main = "src/index.ts"\n[dev]\nport = 8788\n',
      "src/index.ts":
        "export default {\n\tasync fetch(request, env, ctx): Promise<Response> {\n\t\treturn new Response('Hello World!');\n\t},\n} satisfies ExportedHandler<Env>;\n",
    });
    expect(detectApp(worker, undefined)).toMatchObject({
      framework: "workers",
      entry: "src/index.ts",
      port: 8788,
      wrangler: true,
    });
    const express = await app({
      "package.json": { main: "server.js", dependencies: { express: "5", zod: "4", jobstash: "0.1" } },
      "server.js": "const express = require('express');\nconst app = express();\napp.listen(8000);\n",
    });
    expect(detectApp(express, undefined)).toMatchObject({
      framework: "express",
      ts: false,
      esm: false,
      entry: "server.js",
      port: 8000,
      hasZod: true,
      hasJobstash: true,
    });
  });
});

describe("jobstash init: the changes inside existing files", () => {
  it("mounts the receiver right after the app is created, in the file's own style", async () => {
    const dir = await app({
      "package.json": { type: "module", dependencies: { hono: "4" } },
      "tsconfig.json": '{ "compilerOptions": { "module": "NodeNext" } }',
      "src/index.ts": HONO_ENTRY,
    });
    const detected = detectApp(dir, undefined);
    const patched = mountInEntry(detected, layout(detected), HONO_ENTRY)!;
    expect(patched.text.split("\n").slice(0, 7)).toEqual([
      "import { serve } from '@hono/node-server'",
      "import { Hono } from 'hono'",
      "import { jobsRoute } from './jobs/route.js'",
      "",
      "const app = new Hono()",
      "app.route('/api/jobs', jobsRoute) // jobstash: each job at /api/jobs/<jobId>",
      "",
    ]);
    // A chained app: the mount goes after the whole statement.
    const chained =
      'import { Hono } from "hono";\n\nconst app = new Hono<{ Bindings: Env }>()\n  .get("/", (c) => c.text("hi"))\n  .post("/x", (c) => c.text("x"));\n\nexport default app;\n';
    expect(mountInEntry(detected, layout(detected), chained)!.text).toContain(
      '  .post("/x", (c) => c.text("x"));\napp.route("/api/jobs", jobsRoute); // jobstash',
    );
  });

  it("in Express before any body parser, CommonJS too; in a Worker's fetch, with its bindings", async () => {
    const cjs = await app({ "package.json": { dependencies: { express: "5" } }, "server.js": "" });
    const detected = detectApp(cjs, undefined);
    const source =
      'const express = require("express");\n\nconst app = express();\napp.use(express.json());\napp.listen(3000);\n';
    expect(mountInEntry({ ...detected, entry: "server.js" }, layout(detected), source)!.text).toBe(
      'const express = require("express");\nconst { jobsRoute } = require("./jobs/route");\n\nconst app = express();\napp.use("/api/jobs", jobsRoute); // jobstash: each job at /api/jobs/<jobId>; before any body parser\napp.use(express.json());\napp.listen(3000);\n',
    );
    const worker = await app({
      "package.json": { devDependencies: { wrangler: "4" } },
      "tsconfig.json": "{}",
    });
    const w = detectApp(worker, undefined);
    const entry =
      "export default {\n\tasync fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {\n\t\treturn new Response('Hello World!');\n\t},\n} satisfies ExportedHandler<Env>;\n";
    expect(
      mountInEntry({ ...w, entry: "src/index.ts", srcDir: "src" }, layout({ ...w, srcDir: "src" }), entry)!
        .text,
    ).toBe(
      "import { jobsRoute } from './jobs/route';\nexport default {\n\tasync fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {\n\t\tif (new URL(req.url).pathname.startsWith('/api/jobs/')) return jobsRoute(req, env, ctx); // jobstash: each job at /api/jobs/<jobId>\n\t\treturn new Response('Hello World!');\n\t},\n} satisfies ExportedHandler<Env>;\n",
    );
    expect(
      mountInEntry({ ...w, entry: "src/index.ts" }, layout(w), "export default { fetch: handler };\n"),
    ).toBeUndefined();
  });

  it("a dev script that loads .env, env lines appended without changing a line", () => {
    expect(devScriptWithEnv({ scripts: { dev: "tsx watch src/index.ts" } }, "")).toBe(
      "tsx watch --env-file=.env src/index.ts",
    );
    expect(devScriptWithEnv({ scripts: { dev: "node --watch server.js" } }, "")).toBe(
      "node --watch --env-file=.env server.js",
    );
    expect(
      devScriptWithEnv({ scripts: { dev: "tsx src/index.ts" } }, 'import "dotenv/config";'),
    ).toBeUndefined();
    expect(devScriptWithEnv({ scripts: { dev: "nodemon src/index.ts" } }, "")).toBeUndefined();
    const existing = "DATABASE_URL=postgres://x\nQSTASH_URL=https://qstash.upstash.io";
    expect(
      appendEnv(
        existing,
        [
          ["QSTASH_URL", "http://127.0.0.1:8080"],
          ["QSTASH_TOKEN", "t"],
        ],
        "# jobstash",
      ),
    ).toEqual({
      text: "DATABASE_URL=postgres://x\nQSTASH_URL=https://qstash.upstash.io\n\n# jobstash\nQSTASH_TOKEN=t\n",
      added: ["QSTASH_TOKEN"],
      kept: ["QSTASH_URL"],
    });
  });
});

describe("jobstash init (the command)", () => {
  it("writes the files, never overwrites one, and says what it skipped", async () => {
    const dir = await app({
      "package.json": {
        name: "api",
        type: "module",
        scripts: { dev: "tsx watch src/index.ts" },
        dependencies: { hono: "4", jobstash: "0.1" },
      },
      "tsconfig.json": '{ "compilerOptions": { "module": "NodeNext", "outDir": "dist" } }',
      "src/index.ts": HONO_ENTRY,
      ".env": "DATABASE_URL=postgres://localhost/api\n",
    });
    const first = await jobstashDone(["init"], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(
      [
        "jobstash init: Hono app (TypeScript), jobs at http://localhost:3000/api/jobs",
        "",
        '  created  src/jobs/hello.ts    an example job ("hello")',
        "  created  src/jobs/index.ts    the registry (createJobstash)",
        "  created  jobstash.config.mjs  re-exports the registry for the CLI (.mjs: a .ts here would change the layout tsc writes to outDir)",
        "  created  src/jobs/route.ts    the receiver: each job at /api/jobs/<jobId>",
        "  updated  src/index.ts         mounted the receiver: app.route('/api/jobs', jobsRoute)",
        '  updated  package.json         the dev script loads .env: "tsx watch --env-file=.env src/index.ts"',
        "  updated  .env                 QSTASH_URL, QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY, JOBSTASH_BASE_URL for jobstash dev",
        "",
        "Next:",
        "  npm install zod",
        "  npx jobstash dev --base-url http://localhost:3000/api/jobs  # local QStash; keep it running",
        "  npm run dev                                                 # the app, in another terminal",
        '  npx jobstash trigger hello \'{"name":"Ada"}\' --wait          # runs the example job',
        "",
      ].join("\n"),
    );
    expect(await readFile(join(dir, ".env"), "utf8")).toMatch(
      /^DATABASE_URL=postgres:\/\/localhost\/api\n\n# jobstash: .*\nQSTASH_URL=http:\/\/127\.0\.0\.1:8080\n/,
    );
    const snapshot = async () =>
      Promise.all(
        ["src/index.ts", "src/jobs/hello.ts", "package.json", ".env", "jobstash.config.mjs"].map((f) =>
          readFile(join(dir, f), "utf8"),
        ),
      );
    const before = await snapshot();
    const again = await jobstashDone(["init", "--json"], { cwd: dir });
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out.files).toEqual([
      { path: "src/jobs/hello.ts", action: "skipped", note: "exists, left as it is" },
      { path: "src/jobs/index.ts", action: "skipped", note: "exists, left as it is" },
      { path: "jobstash.config.mjs", action: "skipped", note: "exists, left as it is" },
      { path: "src/jobs/route.ts", action: "skipped", note: "exists, left as it is" },
      {
        path: "src/index.ts",
        action: "skipped",
        note: "already mentions jobstash; check that it mounts the receiver",
      },
    ]);
    expect(out).toMatchObject({
      framework: "hono",
      language: "typescript",
      baseUrl: "http://localhost:3000/api/jobs",
      envFile: ".env",
    });
    expect(await snapshot()).toEqual(before);
  });

  it("bad input: no package.json, a framework it cannot tell or does not know: exit 2", async () => {
    const empty = await app({});
    const none = await jobstashDone(["init"], { cwd: empty });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^jobstash init: no package.json in .*: run `jobstash init` in your app's folder/,
    );
    const plain = await app({ "package.json": { dependencies: { lodash: "4" } } });
    const unknown = await jobstashDone(["init"], { cwd: plain });
    expect(unknown.stderr).toMatch(
      /^jobstash init: cannot tell the framework from .*package\.json \(no next, hono, express or wrangler dependency\): pass --framework next\|hono\|express\|workers\n$/,
    );
    const typo = await jobstashDone(["init", "--framework", "hnoo"], { cwd: plain });
    expect(typo).toMatchObject({
      code: 2,
      stderr:
        'jobstash init: unknown --framework "hnoo"; did you mean hono? (one of next, hono, express, workers)\n',
    });
  });
});
