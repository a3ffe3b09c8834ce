import {
  type ApplyReport,
  formatPlan,
  planToJson,
  SyncApplyError,
  type SyncResult,
  syncJobstash,
} from "jobstash/sync";
import { InputError } from "./errors.js";
import { loadConfig } from "./load-config.js";
import { progress } from "./output.js";
import { parseOptions } from "./shared.js";

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
  const values = parseOptions("sync", argv, {
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
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new InputError(
      `--concurrency must be a whole number > 0 (got ${JSON.stringify(values.concurrency)})`,
    );
  }
  if (values.force && !values.prune) throw new InputError("--force only applies with --prune");

  const jobstash = await loadConfig(values.config);
  const planOnly = Boolean(values["dry-run"] || values.check);
  let bar: ReturnType<typeof progress> | undefined;
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
        bar ??= progress("applying", total, { quiet: values.json });
        bar.update(done);
        if (done === total) bar.end();
      },
    });
  } catch (error) {
    // A failed apply did part of the work: its report is this command's output. The error
    // itself goes on to the CLI's one catch, which prints it and picks the exit code.
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
      console.error(
        "jobstash sync: check failed: QStash differs from the code; run `jobstash sync` to apply the plan above",
      );
    return 1;
  }
  return 0;
}
