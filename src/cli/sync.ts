import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { AnyJobstash } from "jobstash";
import {
  type ApplyReport,
  formatPlan,
  planToJson,
  SyncApplyError,
  type SyncResult,
  syncJobstash,
} from "jobstash/sync";

const HELP = `Usage: jobstash sync [options]

Makes QStash's schedules, queues and flow-control keys match the code.

Options:
  -c, --config <file>      Module exporting the createJobstash() registry
                           (default: jobstash.config.ts, .mts, .js or .mjs)
  -e, --env <name>         Environment (default: $JOBSTASH_ENV or development)
      --dry-run            Print the plan; change nothing
      --check              Print the plan; exit 1 if QStash differs from the code
      --json               Print the plan (and report) as JSON
      --prune              Delete owned resources the code no longer declares
      --force              With --prune, also delete queues that still hold messages
      --allow-preview-url  Accept a per-deployment base URL in production
      --concurrency <n>    QStash calls in flight (default: 8)
  -h, --help               Show this help

Exit codes: 0 done (or no drift), 1 drift (--check) or a failed change, 2 bad input.`;

/** An error the CLI prints as is, with its exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

const CONFIG_NAMES = [
  "jobstash.config.ts",
  "jobstash.config.mts",
  "jobstash.config.js",
  "jobstash.config.mjs",
];

function isJobstash(value: unknown): value is AnyJobstash {
  return (
    typeof value === "object" &&
    value !== null &&
    Symbol.for("jobstash.internals") in value &&
    typeof (value as { app?: unknown }).app === "string"
  );
}

/**
 * Load the registry from the config file. TypeScript is loaded through jiti, so a project
 * needs no build step (nor a loader flag) to sync. The registry may be the default export or
 * any named export.
 */
export async function loadConfig(path: string | undefined, cwd = process.cwd()): Promise<AnyJobstash> {
  const file = path
    ? resolve(cwd, path)
    : CONFIG_NAMES.map((n) => resolve(cwd, n)).find((f) => existsSync(f));
  if (!file || !existsSync(file)) {
    throw new CliError(
      path
        ? `config file ${file} not found`
        : `no jobstash.config.ts in ${cwd}: create one that exports your createJobstash() registry, or pass --config <file>`,
    );
  }
  const { createJiti } = await import("jiti");
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: false });
  let mod: Record<string, unknown>;
  try {
    mod = (await jiti.import(file)) as Record<string, unknown>;
  } catch (error) {
    // A bad declaration (cron, time zone, schedule input, key limits) is the user's to fix: exit 2.
    const name = (error as Error)?.name;
    throw new CliError(
      `could not load ${file}: ${(error as Error).message}`,
      name === "ConfigError" || name === "InvalidPayloadError" ? 2 : 1,
    );
  }
  const candidates = [mod.default, ...Object.values(mod)];
  const found = candidates.find(isJobstash);
  if (!found) {
    throw new CliError(
      `${file} exports no jobstash registry: export the object createJobstash() returns (e.g. \`export default createJobstash({ app, jobs })\`)`,
    );
  }
  return found;
}

function formatReport(report: ApplyReport): string {
  const lines = [
    `Applied: ${report.created.length} created, ${report.updated.length} updated, ${report.deleted.length} deleted` +
      ` in ${report.durationMs} ms (${report.writes} write call(s), ${report.retried} retried).`,
  ];
  for (const s of report.skipped) lines.push(`  skipped ${s.name}: ${s.reason}`);
  return lines.join("\n");
}

/** `jobstash sync`. */
export async function run(argv: string[]): Promise<number | undefined> {
  let values: {
    config?: string;
    env?: string;
    "dry-run"?: boolean;
    check?: boolean;
    json?: boolean;
    prune?: boolean;
    force?: boolean;
    "allow-preview-url"?: boolean;
    concurrency?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c" },
        env: { type: "string", short: "e" },
        "dry-run": { type: "boolean" },
        check: { type: "boolean" },
        json: { type: "boolean" },
        prune: { type: "boolean" },
        force: { type: "boolean" },
        "allow-preview-url": { type: "boolean" },
        concurrency: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new CliError(
      `--concurrency must be a whole number > 0 (got ${JSON.stringify(values.concurrency)})`,
    );
  }
  if (values.force && !values.prune) throw new CliError("--force only applies with --prune");

  const jobstash = await loadConfig(values.config);
  const planOnly = Boolean(values["dry-run"] || values.check);
  const tty = Boolean(process.stderr.isTTY);
  let reported = 0;
  let result: SyncResult;
  try {
    result = await syncJobstash(jobstash, {
      ...(values.env !== undefined && { env: values.env }),
      dryRun: planOnly,
      prune: values.prune,
      force: values.force,
      allowPreviewUrl: values["allow-preview-url"],
      concurrency,
      // The plan is shown before the first write, so an interrupted run still says what it meant to do.
      onPlan: (plan) => {
        if (!values.json) console.log(formatPlan(plan, { prune: values.prune }));
      },
      // Long runs only: a live line on a terminal, a line per quarter in CI logs.
      onProgress: ({ done, total }) => {
        if (values.json || total < 20) return;
        if (tty) {
          process.stderr.write(`\r  applying ${done}/${total}${done === total ? "\n" : ""}`);
        } else if (total >= 100 && Math.floor((done * 4) / total) > reported) {
          reported = Math.floor((done * 4) / total);
          process.stderr.write(`  applying ${done}/${total}\n`);
        }
      },
    });
  } catch (error) {
    if (error instanceof SyncApplyError) {
      if (values.json) console.log(JSON.stringify({ report: error.report }, null, 2));
      else console.error(formatReport(error.report));
    }
    throw error;
  }
  if (values.json) {
    console.log(JSON.stringify({ ...(planToJson(result.plan) as object), report: result.report }, null, 2));
  } else if (result.report) {
    console.log(`\n${formatReport(result.report)}`);
  }
  if (values.check && result.drift) {
    if (!values.json)
      console.error("jobstash sync --check: QStash differs from the code; run `jobstash sync`.");
    return 1;
  }
  return 0;
}
