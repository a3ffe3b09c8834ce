import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnvFile } from "../../src/cli/env-files.js";
import { run } from "../helpers/process.js";
import { bundleWorker, startWorker } from "../helpers/worker.js";
import { requireBuiltCli } from "./run.js";
import { initAndDeliver, scratchApp, startGroup } from "./scratch-app.js";

requireBuiltCli();

/**
 * `jobstash init` in existing apps as their starters make them, then the app built and run as
 * its own scripts say, delivering the example job through `jobstash dev` with no edit.
 */
describe("jobstash init, end to end", () => {
  it("a Hono app on Node (create-hono's nodejs starter): builds with tsc, delivers with tsx", async () => {
    const app = await scratchApp(
      {
        "package.json": {
          name: "my-hono-app",
          type: "module",
          scripts: { dev: "tsx watch src/index.ts", build: "tsc", start: "node dist/index.js" },
          dependencies: { "@hono/node-server": "^1.14.0", hono: "^4.7.0", jobstash: "^0.1.0", zod: "^4.0.0" },
          devDependencies: { "@types/node": "^20.11.17", tsx: "^4.7.1", typescript: "^5.8.3" },
        },
        "tsconfig.json": {
          compilerOptions: {
            target: "ESNext",
            module: "NodeNext",
            strict: true,
            verbatimModuleSyntax: true,
            skipLibCheck: true,
            types: ["node"],
            jsx: "react-jsx",
            jsxImportSource: "hono/jsx",
            outDir: "./dist",
          },
          exclude: ["node_modules"],
        },
        "src/index.ts": `import { serve } from '@hono/node-server'
import { Hono } from 'hono'

const app = new Hono()

app.get('/', (c) => {
  return c.text('Hello Hono!')
})

serve({
  fetch: app.fetch,
  port: Number(process.env.PORT ?? 3000)
}, (info) => {
  console.log(\`Server is running on http://localhost:\${info.port}\`)
})
`,
      },
      { packages: ["hono", "@hono/node-server", "zod", "tsx", "typescript", "@types/node"] },
    );
    try {
      const out = await initAndDeliver(
        app.dir,
        async (env) => {
          const { scripts } = JSON.parse(await readFile(join(app.dir, "package.json"), "utf8"));
          expect(scripts.dev).toBe("tsx watch --env-file=.env src/index.ts");
          return startGroup(scripts.dev, { cwd: app.dir, env });
        },
        ".env",
      );
      expect(out).toContain("jobstash init: Hono app (TypeScript), jobs at http://localhost:3000/api/jobs");
      // `npm run build` (tsc) still builds, into the same layout `npm start` runs.
      await run(join(app.dir, "node_modules/.bin/tsc"), [], { cwd: app.dir });
      const built = await readFile(join(app.dir, "dist/index.js"), "utf8");
      expect(built).toContain("app.route('/api/jobs', jobsRoute)");
    } finally {
      await app.remove();
    }
  }, 120_000);

  it("an Express app in CommonJS JavaScript: mounted before express.json(), delivers with node --watch", async () => {
    const app = await scratchApp(
      {
        "package.json": {
          name: "legacy-api",
          main: "server.js",
          scripts: { dev: "node --watch server.js", start: "node server.js" },
          dependencies: { express: "^5.1.0", jobstash: "^0.1.0", zod: "^4.0.0" },
        },
        "server.js": `const express = require("express");

const app = express();
app.use(express.json());

app.get("/", (req, res) => {
  res.send("ok");
});

const port = process.env.PORT || 3000;
app.listen(port, () => console.log(\`listening on \${port}\`));
`,
      },
      { packages: ["express", "zod"] },
    );
    try {
      await initAndDeliver(
        app.dir,
        async (env) => {
          const { scripts } = JSON.parse(await readFile(join(app.dir, "package.json"), "utf8"));
          expect(scripts.dev).toBe("node --watch --env-file=.env server.js");
          return startGroup(scripts.dev, { cwd: app.dir, env });
        },
        ".env",
      );
      const server = await readFile(join(app.dir, "server.js"), "utf8");
      expect(server.split("\n").slice(0, 6)).toEqual([
        'const express = require("express");',
        'const { jobsRoute } = require("./jobs/route");',
        "",
        "const app = express();",
        'app.use("/api/jobs", jobsRoute); // jobstash: each job at /api/jobs/<jobId>; before any body parser',
        "app.use(express.json());",
      ]);
      expect(await readFile(join(app.dir, "jobs/hello.js"), "utf8")).toMatch(
        /^const \{ defineJob \} = require\("jobstash"\);/,
      );
    } finally {
      await app.remove();
    }
  }, 120_000);

  it("a Cloudflare Worker (wrangler's starter): bundled as wrangler does, run in workerd with .dev.vars", async () => {
    const app = await scratchApp(
      {
        "package.json": {
          name: "my-worker",
          scripts: { dev: "wrangler dev", deploy: "wrangler deploy" },
          devDependencies: {
            wrangler: "^4.0.0",
            typescript: "^5.5.2",
            "@cloudflare/workers-types": "^4.0.0",
          },
          dependencies: { jobstash: "^0.1.0", zod: "^4.0.0" },
        },
        "wrangler.toml": 'name = "my-worker"\nmain = "src/index.ts"\ncompatibility_date = "2026-04-01"\n',
        "tsconfig.json": {
          compilerOptions: {
            target: "es2021",
            module: "es2022",
            moduleResolution: "Bundler",
            noEmit: true,
            strict: true,
          },
        },
        "src/index.ts": `export default {
	async fetch(request, env, ctx): Promise<Response> {
		return new Response('Hello World!');
	},
} satisfies ExportedHandler<Env>;
`,
      },
      { packages: ["zod"] },
    );
    try {
      await initAndDeliver(
        app.dir,
        async (env, port) => {
          const vars = Object.fromEntries(parseEnvFile(await readFile(join(app.dir, ".dev.vars"), "utf8")));
          const lines: string[] = [];
          const worker = await startWorker(await bundleWorker(join(app.dir, "src/index.ts")), {
            vars: { ...vars, ...env },
            port,
            onLog: ({ message }) => lines.push(message),
          });
          return { output: () => lines.join("\n"), stop: worker.close };
        },
        ".dev.vars",
      );
      expect(await readFile(join(app.dir, "src/index.ts"), "utf8")).toContain(
        "\t\tif (new URL(request.url).pathname.startsWith('/api/jobs/')) return jobsRoute(request, env, ctx); // jobstash",
      );
    } finally {
      await app.remove();
    }
  }, 120_000);
});
