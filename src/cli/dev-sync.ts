import type { AnyJobstash } from "jobstash";
import { DEFAULT_DEV_USER } from "jobstash/dev-server";
import { internals } from "../jobstash.js";
import { ConfigNotFoundError } from "./errors.js";
import { loadConfig } from "./load-config.js";
import { EXAMPLE_BASE_URL } from "./shared.js";

/** Options of {@link syncOnStart}. */
export interface SyncOnStartOptions {
  /** Config file given with `--config`; without it a missing default config is not an error. */
  config?: string;
  /** The registry, already being loaded from `config` (`jobstash dev` shares it with the console). */
  registry?: Promise<AnyJobstash>;
  /** URL the dev server listens on. */
  url: string;
  /** The app's base URL (`--base-url` or JOBSTASH_BASE_URL), that schedules deliver to. */
  baseUrl?: string;
  log: (line: string) => void;
  /** Where problems go. @default log */
  warn?: (line: string) => void;
}

/**
 * `jobstash dev` start hook: sync the app's schedules, queues and flow-control keys into the
 * fresh local server, so local schedules exist without a manual step. A problem is printed,
 * never fatal: the server is still useful without the schedules.
 */
export async function syncOnStart(options: SyncOnStartOptions): Promise<void> {
  const warn = options.warn ?? options.log;
  let jobs: AnyJobstash;
  try {
    jobs = await (options.registry ?? loadConfig(options.config));
  } catch (error) {
    // No config file is a normal way to run the server; a config that fails to load is not.
    if (error instanceof ConfigNotFoundError && !options.config) {
      options.log(
        "jobstash dev: no jobstash.config.ts here, so no schedules were synced (--config <file> to point at one)",
      );
    } else {
      warn(`jobstash dev: sync skipped: ${(error as Error).message}`);
    }
    return;
  }
  if (!declaresAnything(jobs)) {
    options.log(
      `jobstash dev: app "${jobs.app}" declares no schedules, queues or flow-control keys; nothing to sync`,
    );
    return;
  }
  const bindings = {
    ...process.env,
    QSTASH_URL: options.url,
    QSTASH_TOKEN: DEFAULT_DEV_USER.token,
    ...(options.baseUrl && { JOBSTASH_BASE_URL: options.baseUrl }),
  };
  // Schedules deliver to the app, so sync needs its URL; the registry may set it in code.
  const someJob = jobs.jobs.keys().next().value;
  try {
    if (someJob !== undefined) jobs.url(someJob, bindings);
  } catch (error) {
    warn(
      `jobstash dev: sync skipped: ${(error as Error).message}. Pass --base-url <url> or set JOBSTASH_BASE_URL to where your app mounts the receiver, e.g. --base-url ${EXAMPLE_BASE_URL}`,
    );
    return;
  }
  const { formatPlan, syncJobstash } = await import("jobstash/sync");
  try {
    const { report } = await syncJobstash(jobs, {
      env: "development",
      bindings,
      onPlan: (plan) => options.log(formatPlan(plan)),
    });
    options.log(
      `jobstash dev: synced (${report?.created.length ?? 0} created, ${report?.updated.length ?? 0} updated)`,
    );
  } catch (error) {
    warn(`jobstash dev: sync failed: ${(error as Error).message}`);
  }
}

/** Whether sync would have anything of the app's to write: else a plan of empty sections is noise. */
function declaresAnything(jobs: AnyJobstash): boolean {
  const { queues, flowControls } = internals(jobs).resources;
  return (
    queues.length > 0 ||
    flowControls.length > 0 ||
    [...jobs.jobs.values()].some((job) => job.schedules.length > 0)
  );
}
