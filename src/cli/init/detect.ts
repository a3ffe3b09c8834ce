import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { didYouMean } from "../shared.js";

/**
 * What `jobstash init` needs to know about an existing app, read from its files: the
 * framework (package.json), the language and module system, where sources live, the entry
 * file that creates the app (for frameworks without file-based routes), and its port.
 */

export const FRAMEWORKS = ["next", "hono", "express", "workers"] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface PackageJson {
  name?: string;
  type?: string;
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface App {
  dir: string;
  pkg: PackageJson;
  framework: Framework;
  /** TypeScript sources (a tsconfig.json or typescript in the dependencies). */
  ts: boolean;
  /** Node runs the sources as ES modules (`"type": "module"`), or a bundler does (Next.js, Workers). */
  esm: boolean;
  /** Relative imports need their `.js` extension (Node ESM, TypeScript's NodeNext). */
  extensions: boolean;
  /** Folder new sources go in: "src" when the app keeps its sources there, else "". */
  srcDir: string;
  /** Next.js: the App Router's folder (`app` or `src/app`), or undefined for a Pages Router app. */
  appDir?: string;
  /** The file that creates the app (Hono, Express) or exports the Worker, relative to `dir`. */
  entry?: string;
  /** The port the app listens on in development. */
  port: number;
  /** A root-level .ts file would end up in the TypeScript build's output layout (see configName). */
  tscEmitsRoot: boolean;
  /** Whether `zod` is a dependency (the example job uses it). */
  hasZod: boolean;
  /** Whether `jobstash` is a dependency. */
  hasJobstash: boolean;
  /** Whether the app runs on wrangler (Workers, Hono on Workers). */
  wrangler: boolean;
}

function readPackage(dir: string): PackageJson {
  const file = join(dir, "package.json");
  if (!existsSync(file)) {
    throw new InputError(
      `no package.json in ${dir}: run \`jobstash init\` in your app's folder (it adds jobstash to an existing app)`,
    );
  }
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PackageJson;
  } catch (error) {
    throw new InputError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The framework named by `--framework`, checked. */
export function frameworkOption(text: string | undefined): Framework | undefined {
  if (text === undefined) return undefined;
  const name = text
    .toLowerCase()
    .replace(/^next\.?js$/, "next")
    .replace(/^(cloudflare-)?workers?$/, "workers");
  if ((FRAMEWORKS as readonly string[]).includes(name)) return name as Framework;
  const near = didYouMean(name, FRAMEWORKS);
  throw new InputError(
    `unknown --framework ${JSON.stringify(text)}${near ? `; did you mean ${near}?` : ""} (one of ${FRAMEWORKS.join(", ")})`,
  );
}

function deps(pkg: PackageJson): Record<string, string> {
  return { ...pkg.dependencies, ...pkg.devDependencies };
}

/** The framework from the dependencies: Next.js, then Hono, then Express, then a plain Worker. */
function detectFramework(pkg: PackageJson): Framework | undefined {
  const d = deps(pkg);
  if (d.next) return "next";
  if (d.hono) return "hono";
  if (d.express) return "express";
  if (d.wrangler || d["@cloudflare/workers-types"]) return "workers";
  return undefined;
}

/** tsconfig.json's compilerOptions (JSON with comments and trailing commas, as TypeScript reads it). */
function tsconfig(dir: string): {
  compilerOptions?: Record<string, unknown>;
  include?: unknown;
  files?: unknown;
} {
  const file = join(dir, "tsconfig.json");
  if (!existsSync(file)) return {};
  const text = readFileSync(file, "utf8")
    .replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_, string) => string ?? "")
    .replace(/,(\s*[}\]])/g, "$1");
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

const ENTRY_NAMES = ["index", "app", "server", "main", "worker"];
const ENTRY_EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".cjs"];

/** What marks the file that creates the app (or the Worker's export). */
const APP_PATTERN: Record<Exclude<Framework, "next">, RegExp> = {
  hono: /\bnew\s+Hono\b/,
  express: /\bexpress\s*\(\s*\)/,
  workers: /export\s+default\s*\{[\s\S]*\bfetch\s*\(/,
};

/** The entry: the file a script runs (or `main`), else a usual name, that creates the app. */
function findEntry(dir: string, pkg: PackageJson, framework: Exclude<Framework, "next">): string | undefined {
  const named = [
    ...Object.values(pkg.scripts ?? {}).flatMap((s) => s.match(/[\w./-]+\.(?:[mc]?[jt]s)\b/g) ?? []),
    ...(pkg.main ? [pkg.main] : []),
  ].filter((f) => !f.startsWith("dist/") && !f.startsWith("build/"));
  const usual = ["src/", ""].flatMap((folder) =>
    ENTRY_NAMES.flatMap((name) => ENTRY_EXTENSIONS.map((ext) => `${folder}${name}${ext}`)),
  );
  for (const file of [...new Set([...named.map((f) => f.replace(/^\.\//, "")), ...usual])]) {
    const path = join(dir, file);
    if (existsSync(path) && APP_PATTERN[framework].test(readFileSync(path, "utf8"))) return file;
  }
  return undefined;
}

/** The development port: from the dev script, the entry, wrangler's config, else the framework's default. */
function findPort(dir: string, pkg: PackageJson, framework: Framework, entry: string | undefined): number {
  const script = pkg.scripts?.dev ?? "";
  const fromScript = /(?:\s-p|--port)[\s=]+(\d{2,5})\b/.exec(script)?.[1];
  if (fromScript) return Number(fromScript);
  if (framework === "workers" || (framework === "hono" && existsWrangler(dir))) {
    for (const name of ["wrangler.toml", "wrangler.jsonc", "wrangler.json"]) {
      const file = join(dir, name);
      if (!existsSync(file)) continue;
      const port = /\bport["']?\s*[:=]\s*(\d{2,5})/.exec(readFileSync(file, "utf8"))?.[1];
      if (port) return Number(port);
    }
    return 8787;
  }
  if (entry) {
    const text = readFileSync(join(dir, entry), "utf8");
    const port =
      /\bport\s*[:=]\s*(?:[^,;\n]*?(?:\|\||\?\?)\s*)?(\d{2,5})\b/i.exec(text)?.[1] ??
      /\.listen\(\s*(\d{2,5})\b/.exec(text)?.[1];
    if (port) return Number(port);
  }
  return 3000;
}

function existsWrangler(dir: string): boolean {
  return ["wrangler.toml", "wrangler.jsonc", "wrangler.json"].some((name) => existsSync(join(dir, name)));
}

/** Read the app in `dir`; `framework` overrides what package.json says. */
export function detectApp(dir: string, framework: Framework | undefined): App {
  const pkg = readPackage(dir);
  const detected = framework ?? detectFramework(pkg);
  if (!detected) {
    throw new InputError(
      `cannot tell the framework from ${join(dir, "package.json")} (no next, hono, express or wrangler dependency): pass --framework next|hono|express|workers`,
    );
  }
  const d = deps(pkg);
  const config = tsconfig(dir);
  const options = config.compilerOptions ?? {};
  const ts = existsSync(join(dir, "tsconfig.json")) || Boolean(d.typescript);
  const wrangler = detected === "workers" || existsWrangler(dir) || Boolean(d.wrangler);
  const bundled = detected === "next" || wrangler;
  const esm = bundled || pkg.type === "module";
  const resolution = String(options.moduleResolution ?? options.module ?? "").toLowerCase();
  const extensions = !bundled && (ts ? /^node(16|next)$/.test(resolution) : esm);
  const include = config.include;
  const onlySrc =
    config.files !== undefined ||
    (Array.isArray(include) && include.every((p) => typeof p === "string" && /^\.?\/?src\b/.test(p)));
  const tscEmitsRoot =
    ts &&
    options.noEmit !== true &&
    !onlySrc &&
    (options.outDir !== undefined || options.rootDir !== undefined);
  const appDir =
    detected !== "next"
      ? undefined
      : existsSync(join(dir, "src/app"))
        ? "src/app"
        : existsSync(join(dir, "app")) ||
            !(existsSync(join(dir, "pages")) || existsSync(join(dir, "src/pages")))
          ? "app"
          : undefined;
  const srcDir =
    detected === "next"
      ? existsSync(join(dir, "src/app")) || existsSync(join(dir, "src/pages"))
        ? "src"
        : ""
      : existsSync(join(dir, "src"))
        ? "src"
        : "";
  const entry = detected === "next" ? undefined : findEntry(dir, pkg, detected);
  return {
    dir,
    pkg,
    framework: detected,
    ts,
    esm,
    extensions,
    srcDir,
    appDir,
    entry,
    port: findPort(dir, pkg, detected, entry),
    tscEmitsRoot,
    hasZod: Boolean(d.zod),
    hasJobstash: Boolean(d.jobstash),
    wrangler,
  };
}
