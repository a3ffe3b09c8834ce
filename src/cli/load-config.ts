import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { AnyJobstash } from "jobstash";
import { isJobstash } from "../jobstash.js";
import { ConfigNotFoundError, InputError } from "./errors.js";

/** The names a config file is found by, in the order they are tried. */
export const CONFIG_NAMES = [
  "jobstash.config.ts",
  "jobstash.config.mts",
  "jobstash.config.js",
  "jobstash.config.mjs",
];

/**
 * Load the registry from the config file. TypeScript is loaded through jiti, so a project
 * needs no build step (nor a loader flag) to sync. The registry may be the default export or
 * any named export. A file that is missing throws {@link ConfigNotFoundError}; one that fails
 * to load (a syntax error, a bad cron, a schedule input its schema rejects) an `InputError`
 * with the real error, exit code 2 either way: the input is the user's to fix.
 */
export async function loadConfig(path: string | undefined, cwd = process.cwd()): Promise<AnyJobstash> {
  const file = path
    ? resolve(cwd, path)
    : CONFIG_NAMES.map((n) => resolve(cwd, n)).find((f) => existsSync(f));
  if (!file || !existsSync(file)) {
    throw new ConfigNotFoundError(
      path
        ? `config file ${file} not found`
        : `no jobstash.config.ts in ${cwd}: create one that exports your createJobstash() registry, or pass --config <file>`,
    );
  }
  const { createJiti } = await import("jiti");
  // The transpiled config is cached on disk (keyed by its content, under node_modules/.cache):
  // each CLI command loads it afresh, and the cache saves about 170 ms of that each time.
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: true });
  let mod: Record<string, unknown>;
  try {
    mod = (await jiti.import(file)) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`could not load ${file}: ${(error as Error)?.message ?? String(error)}`);
  }
  const candidates = [mod.default, ...Object.values(mod)];
  const found = candidates.find(isJobstash);
  if (!found) {
    throw new InputError(
      `${file} exports no jobstash registry: export the object createJobstash() returns (e.g. \`export default createJobstash({ app, jobs })\`)`,
    );
  }
  return found;
}
