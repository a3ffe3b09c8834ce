import { DEFAULT_DEV_USER } from "jobstash/dev-server";

/** Options of {@link syncOnStart}. */
export interface SyncOnStartOptions {
  /** Config file given with `--config`; without it a missing default config is not an error. */
  config?: string;
  /** URL the dev server listens on. */
  url: string;
  log: (line: string) => void;
}

/**
 * `jobstash dev` start hook: sync the app's schedules, queues and flow-control keys into the
 * fresh local server, so local schedules exist without a manual step. A problem is printed,
 * never fatal: the server is still useful without the schedules.
 */
export async function syncOnStart(options: SyncOnStartOptions): Promise<void> {
  const { loadConfig } = await import("./sync.js");
  const { formatPlan, syncJobstash } = await import("jobstash/sync");
  let jobstash: Awaited<ReturnType<typeof loadConfig>>;
  try {
    jobstash = await loadConfig(options.config);
  } catch (error) {
    if (options.config) options.log(`jobstash dev: sync skipped: ${(error as Error).message}`);
    else
      options.log(
        "jobstash dev: no jobstash.config.ts here, so no schedules were synced (--config <file> to point at one)",
      );
    return;
  }
  try {
    const { report } = await syncJobstash(jobstash, {
      env: "development",
      bindings: { ...process.env, QSTASH_URL: options.url, QSTASH_TOKEN: DEFAULT_DEV_USER.token },
      onPlan: (plan) => options.log(formatPlan(plan)),
    });
    options.log(
      `jobstash dev: synced (${report?.created.length ?? 0} created, ${report?.updated.length ?? 0} updated)`,
    );
  } catch (error) {
    options.log(`jobstash dev: sync failed: ${(error as Error).message}`);
  }
}
