import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "./errors.js";

/**
 * The env files an app's framework reads in development, in the order they win: Next.js's
 * `.env.local`, then `.env` (Next.js, Node with `--env-file`, dotenv), then wrangler's
 * `.dev.vars`. `jobstash init` writes the settings into one of them, so the commands that
 * talk to QStash read them too; a variable set in the environment wins over every file.
 */
const ENV_FILES = [".env.local", ".env", ".dev.vars"] as const;

/** Where each setting came from: a file name, or "environment". */
export type SettingSources = Map<string, string>;

/**
 * Put the variables of the env files into `process.env` where it has none (a config file that
 * reads `process.env` at import time sees them too). `file` replaces the default list with
 * one file, which must exist. Returns where each variable came from.
 */
export function loadEnvFiles(cwd: string, file?: string): SettingSources {
  const sources: SettingSources = new Map();
  for (const name of Object.keys(process.env)) sources.set(name, "environment");
  const files = file ? [resolve(cwd, file)] : ENV_FILES.map((name) => resolve(cwd, name));
  if (file && !existsSync(files[0]!)) throw new InputError(`--env-file ${file} not found`);
  for (const path of files) {
    if (!existsSync(path)) continue;
    const shown = file ?? path.slice(resolve(cwd).length + 1);
    for (const [name, value] of parseEnvFile(readFileSync(path, "utf8"))) {
      if (sources.has(name)) continue;
      process.env[name] = value;
      sources.set(name, shown);
    }
  }
  return sources;
}

/**
 * `KEY=value` lines as dotenv reads them: `export ` allowed, `#` comments, values in single
 * quotes taken as they are, in double quotes with `\n` escapes, unquoted ones trimmed and cut
 * at ` #`.
 */
export function parseEnvFile(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(raw);
    if (!match) continue;
    const [, name, rest] = match as unknown as [string, string, string];
    let value = rest.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && value.indexOf(quote, 1) > 0) {
      value = value.slice(1, value.indexOf(quote, 1));
      if (quote === '"') value = value.replace(/\\n/g, "\n");
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    out.push([name, value]);
  }
  return out;
}
