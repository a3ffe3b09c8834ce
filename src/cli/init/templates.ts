import { posix } from "node:path";
import type { App } from "./detect.js";

/**
 * The files `jobstash init` writes, for one app: an example job, the registry, the receiver
 * for the app's framework, and jobstash.config for the CLI. TypeScript sources carry no type
 * annotations beyond what inference gives, so the same text serves JavaScript ES modules;
 * CommonJS apps get `require` forms.
 */

/** Where the receiver is mounted, and so the path part of JOBSTASH_BASE_URL. */
export const MOUNT = "/api/jobs";

/** The example job's id and an input for it, used in the printed commands. */
export const EXAMPLE = { id: "hello", input: '{"name":"Ada"}' } as const;

export interface Layout {
  ext: string;
  jobFile: string;
  registryFile: string;
  /** The receiver: Next.js's route, or a module the entry mounts. */
  routeFile: string;
  configFile: string;
}

/** The app's name as a jobstash app name (letters, digits, `.`, `_`, `-`). */
function appName(app: App): string {
  const raw = (app.pkg.name ?? posix.basename(app.dir.replace(/\\/g, "/")))
    .replace(/^@/, "")
    .replace(/\//g, "-");
  const name = raw.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return name || "app";
}

export function layout(app: App): Layout {
  const ext = app.ts ? "ts" : "js";
  const src = app.srcDir ? `${app.srcDir}/` : "";
  const routeFile =
    app.framework !== "next"
      ? `${src}jobs/route.${ext}`
      : app.appDir
        ? `${app.appDir}${MOUNT}/[...job]/route.${ext}`
        : `${src}pages${MOUNT}/[...job].${ext}`;
  // A root-level .ts would land in a TypeScript build's output (or break its rootDir), and a
  // JavaScript app may be CommonJS: an .mjs re-export keeps the config out of both.
  const configFile = app.ts && !app.tscEmitsRoot ? "jobstash.config.ts" : "jobstash.config.mjs";
  return {
    ext,
    jobFile: `${src}jobs/${EXAMPLE.id}.${ext}`,
    registryFile: `${src}jobs/index.${ext}`,
    routeFile,
    configFile,
  };
}

/** `./jobs/index` from one project file to another, with `.js` where the app's imports need it. */
export function importPath(app: App, from: string, to: string): string {
  let rel = posix.relative(posix.dirname(from), to).replace(/\.(ts|js)$/, "");
  if (!rel.startsWith(".")) rel = `./${rel}`;
  if (app.extensions) return `${rel}.js`;
  // A folder's index needs no name where imports resolve without extensions.
  return rel.replace(/\/index$/, "") || ".";
}

const cjs = (app: App) => !app.esm;

export function jobSource(app: App): string {
  const header = cjs(app)
    ? `const { defineJob } = require("jobstash");\nconst { z } = require("zod");`
    : `import { defineJob } from "jobstash";\nimport { z } from "zod";`;
  return `${header}

/**
 * An example job. Run it through QStash (locally, \`npx jobstash dev\`):
 *   npx jobstash trigger ${EXAMPLE.id} '${EXAMPLE.input}' --wait
 */
${cjs(app) ? "exports.hello =" : "export const hello ="} defineJob({
  id: "${EXAMPLE.id}",
  input: z.object({ name: z.string().min(1) }),
  retries: 3,
  async run(input, ctx) {
    ctx.logger.info(\`hello, \${input.name} (attempt \${ctx.attempt})\`);
    return { greeting: \`Hello, \${input.name}!\` };
  },
});
`;
}

export function registrySource(app: App, files: Layout): string {
  const job = importPath(app, files.registryFile, files.jobFile);
  const name = appName(app);
  if (cjs(app)) {
    return `const { createJobstash } = require("jobstash");
const { hello } = require("${job}");

/** This app's jobs: the receiver serves them, jobstash.config re-exports them for the CLI. */
exports.jobs = createJobstash({ app: "${name}", jobs: [hello] });
`;
  }
  return `import { createJobstash } from "jobstash";
import { hello } from "${job}";

/** This app's jobs: the receiver serves them, jobstash.config re-exports them for the CLI. */
export const jobs = createJobstash({ app: "${name}", jobs: [hello] });
`;
}

export function routeSource(app: App, files: Layout): string {
  const registry = importPath(app, files.routeFile, files.registryFile);
  const importJobs = cjs(app)
    ? `const { jobs } = require("${registry}");`
    : `import { jobs } from "${registry}";`;
  switch (app.framework) {
    case "next":
      return app.appDir
        ? `// Every job at ${MOUNT}/<jobId>: QStash delivers to JOBSTASH_BASE_URL/<jobId>.
import { serve } from "jobstash/next";
${importJobs}

export const { POST } = serve(jobs);
`
        : `// Every job at ${MOUNT}/<jobId>: QStash delivers to JOBSTASH_BASE_URL/<jobId>.
import { serve } from "jobstash/next";
${importJobs}

export default serve(jobs);
// The signature covers the raw body: Next.js must not parse it first.
export const config = { api: { bodyParser: false } };
`;
    case "hono":
    case "express":
    case "workers": {
      const comment = {
        hono: `// The receiver, mounted by the app at ${MOUNT}: app.route("${MOUNT}", jobsRoute).`,
        express: `// The receiver, mounted by the app at ${MOUNT} before any body parser: app.use("${MOUNT}", jobsRoute).`,
        workers: `// The receiver, called by the Worker's fetch for ${MOUNT}/<jobId> with its bindings.`,
      }[app.framework];
      if (cjs(app)) {
        return `${comment}
const { serve } = require("jobstash/${app.framework}");
${importJobs}

exports.jobsRoute = serve(jobs);
`;
      }
      return `${comment}
import { serve } from "jobstash/${app.framework}";
${importJobs}

export const jobsRoute = serve(jobs);
`;
    }
  }
}

export function configSource(app: App, files: Layout): string {
  // The config re-exports the registry; jiti (which loads it) needs no build step, whatever the module system.
  const target = files.configFile.endsWith(".ts")
    ? importPath(app, files.configFile, files.registryFile)
    : `./${files.registryFile}`;
  return `// The registry the jobstash CLI loads (sync, dev, trigger, logs, dlq, doctor).
export { jobs as default } from "${target}";
`;
}
