import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULT_DEV_USER } from "../../dev-server/engine/users.js";
import { CONFIG_NAMES } from "../load-config.js";
import { printJson, styler } from "../output.js";
import { parseCommand } from "../shared.js";
import { type App, detectApp, frameworkOption } from "./detect.js";
import { appendEnv, devScriptWithEnv, mountInEntry } from "./patch.js";
import { configSource, EXAMPLE, jobSource, layout, MOUNT, registrySource, routeSource } from "./templates.js";

const HELP = `Usage: jobstash init [options]

Adds jobstash to the app in this folder: an example job (with a zod schema), the registry,
the receiver route for the app's framework, jobstash.config for the CLI, and the settings
for local development (against \`jobstash dev\`) in the framework's env file. Then prints the
next commands. The framework comes from package.json unless --framework names it.

It never overwrites a file: one that exists is skipped and named. Two changes go into
existing files, and are printed: in a Hono, Express or Workers app (no file-based routes)
the entry gets the receiver's import and mount, and a Node dev script (tsx or node) gets
--env-file=.env unless the app loads .env already. Env lines are appended, never changed.

Options:
      --framework <name>   next, hono, express or workers (default: from package.json)
      --json               Print what was done as JSON
  -h, --help               Show this help

Examples:
  npx jobstash init
  npx jobstash init --framework workers

Exit codes: 0 done, 2 bad input (no package.json, a framework it cannot tell).`;

type Action = "created" | "updated" | "skipped";

interface Done {
  path: string;
  action: Action;
  note: string;
}

const ENV_FILE: Record<string, string> = { next: ".env.local", workers: ".dev.vars" };

/** The framework's env file: Next.js's .env.local, wrangler's .dev.vars, else .env. */
function envFile(app: App): string {
  return app.wrangler ? ".dev.vars" : (ENV_FILE[app.framework] ?? ".env");
}

function describeApp(app: App): string {
  const name = { next: "Next.js", hono: "Hono", express: "Express", workers: "Cloudflare Workers" }[
    app.framework
  ];
  const lang = app.ts ? "TypeScript" : app.esm ? "JavaScript" : "JavaScript (CommonJS)";
  const where = app.framework === "hono" && app.wrangler ? " on Workers" : "";
  return `${name}${where} app (${lang})`;
}

/** `jobstash init`. */
export async function run(argv: string[]): Promise<number | undefined> {
  const { values } = parseCommand("init", argv, {
    framework: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = process.cwd();
  const app = detectApp(dir, frameworkOption(values.framework));
  const files = layout(app);
  const done: Done[] = [];
  const manual: string[] = [];
  const write = (path: string, text: string, note: string) => {
    const full = join(dir, path);
    if (existsSync(full)) {
      done.push({ path, action: "skipped", note: "exists, left as it is" });
      return false;
    }
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    done.push({ path, action: "created", note });
    return true;
  };

  write(files.jobFile, jobSource(app), `an example job ("${EXAMPLE.id}")`);
  write(files.registryFile, registrySource(app, files), "the registry (createJobstash)");
  const existingConfig = CONFIG_NAMES.find((name) => existsSync(join(dir, name)));
  if (existingConfig) done.push({ path: existingConfig, action: "skipped", note: "exists, left as it is" });
  else {
    const why = !files.configFile.endsWith(".mjs")
      ? ""
      : app.ts
        ? " (.mjs: a .ts here would change the layout tsc writes to outDir)"
        : " (.mjs: ES module syntax whatever the package's type)";
    write(files.configFile, configSource(app, files), `re-exports the registry for the CLI${why}`);
  }
  write(files.routeFile, routeSource(app, files), `the receiver: each job at ${MOUNT}/<jobId>`);

  // Frameworks without file-based routes: mount the receiver in the entry.
  if (app.framework !== "next") {
    const entrySource = app.entry ? readFileSync(join(dir, app.entry), "utf8") : undefined;
    const alreadyMounted = entrySource !== undefined && /\bjobsRoute\b|jobstash/.test(entrySource);
    const patched =
      entrySource !== undefined && !alreadyMounted ? mountInEntry(app, files, entrySource) : undefined;
    if (patched) {
      writeFileSync(join(dir, app.entry!), patched.text);
      done.push({ path: app.entry!, action: "updated", note: `mounted the receiver: ${patched.mount}` });
    } else if (alreadyMounted) {
      done.push({
        path: app.entry!,
        action: "skipped",
        note: "already mentions jobstash; check that it mounts the receiver",
      });
    } else {
      manual.push(
        `mount the receiver in the file that creates your app (${app.entry ?? "none found"}): import { jobsRoute } from "./${files.routeFile.replace(/\.(ts|js)$/, "")}", then ${
          app.framework === "hono"
            ? `app.route("${MOUNT}", jobsRoute)`
            : app.framework === "express"
              ? `app.use("${MOUNT}", jobsRoute) before any body parser`
              : `in fetch: if (new URL(request.url).pathname.startsWith("${MOUNT}/")) return jobsRoute(request, env, ctx)`
        }`,
      );
    }
    // A Node app reads no env file by itself.
    if (!app.wrangler) {
      const script = devScriptWithEnv(app.pkg, entrySource);
      if (script) {
        const pkgFile = join(dir, "package.json");
        const text = readFileSync(pkgFile, "utf8");
        const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? "  ";
        const pkg = JSON.parse(text);
        pkg.scripts.dev = script;
        writeFileSync(pkgFile, `${JSON.stringify(pkg, null, indent)}\n`);
        done.push({
          path: "package.json",
          action: "updated",
          note: `the dev script loads .env: "${script}"`,
        });
      } else if (!/--env-file|dotenv/.test(`${app.pkg.scripts?.dev ?? ""}${entrySource ?? ""}`)) {
        manual.push("load .env when the app starts in development (node --env-file=.env, or dotenv)");
      }
    }
  }

  // The settings for jobstash dev, appended to the env file.
  const baseUrl = `http://localhost:${app.port}${MOUNT}`;
  const env = envFile(app);
  const envPath = join(dir, env);
  const before = existsSync(envPath) ? readFileSync(envPath, "utf8") : undefined;
  const user = DEFAULT_DEV_USER;
  const { text, added, kept } = appendEnv(
    before,
    [
      ["QSTASH_URL", "http://127.0.0.1:8080"],
      ["QSTASH_TOKEN", user.token],
      ["QSTASH_CURRENT_SIGNING_KEY", user.currentSigningKey],
      ["QSTASH_NEXT_SIGNING_KEY", user.nextSigningKey],
      ["JOBSTASH_BASE_URL", baseUrl],
    ],
    "# jobstash: local development against `npx jobstash dev` (the values it prints)",
  );
  if (added.length) {
    writeFileSync(envPath, text);
    done.push({
      path: env,
      action: before === undefined ? "created" : "updated",
      note: `${added.join(", ")} for jobstash dev`,
    });
  }
  if (kept.length) {
    done.push({
      path: env,
      action: "skipped",
      note: `kept the ${kept.join(", ")} it sets (jobstash dev prints its own)`,
    });
  }

  const install = [!app.hasJobstash && "jobstash", !app.hasZod && "zod"].filter(Boolean);
  const run = app.pkg.scripts?.dev
    ? "npm run dev"
    : app.wrangler
      ? "npx wrangler dev"
      : "your app's start command";
  const next = [
    ...(install.length ? [`npm install ${install.join(" ")}`] : []),
    // The base URL, so that dev syncs the app's schedules on start (it reads no env file).
    `npx jobstash dev --base-url ${baseUrl}`,
    run,
    `npx jobstash trigger ${EXAMPLE.id} '${EXAMPLE.input}' --wait`,
  ];
  if (values.json) {
    printJson({
      framework: app.framework,
      language: app.ts ? "typescript" : "javascript",
      baseUrl,
      envFile: env,
      files: done,
      manual,
      next,
    });
    return 0;
  }
  const style = styler();
  const width = Math.max(...done.map((d) => d.path.length));
  const tone = { created: "green", updated: "yellow", skipped: "dim" } as const;
  console.log(`jobstash init: ${describeApp(app)}, jobs at ${baseUrl}\n`);
  for (const d of done)
    console.log(`  ${style(tone[d.action], d.action.padEnd(7))}  ${d.path.padEnd(width)}  ${d.note}`);
  if (manual.length) {
    console.log(`\n${style("yellow", "Left for you:")}`);
    for (const m of manual) console.log(`  - ${m}`);
  }
  const notes = ["local QStash; keep it running", "the app, in another terminal", "runs the example job"];
  const pad = Math.max(...next.map((c) => c.length));
  console.log("\nNext:");
  next.forEach((command, i) => {
    const note = install.length ? (i === 0 ? "" : notes[i - 1]) : notes[i];
    console.log(note ? `  ${command.padEnd(pad)}  # ${note}` : `  ${command}`);
  });
  return 0;
}
